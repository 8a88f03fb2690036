using Ppcls.Core.Native;
using Ppcls.Tools.Cli;

NativeSetup.Initialize();
return PpclsCli.Run(args, Console.Out, Console.Error);
