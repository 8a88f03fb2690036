using Ppcls.Core.Native;
using Ppcls.Tools.Cli;

// malloc tuning must precede the first tensor (see MallocTuning).
MallocTuning.Apply();
return PpclsCli.Run(args, Console.Out, Console.Error);
