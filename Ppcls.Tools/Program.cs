Console.WriteLine("ppcls");
