using Ppcls.Core;
using Ppcls.Core.Distributed;
using Ppcls.Core.Logging;
using Ppcls.Core.Native;
using Ppcls.Tools.Cli;

// Under mpirun each rank writes to a pseudo-terminal that Open MPI forwards: .NET would put terminal-mode escapes
// into it and the progress display would draw there, across ranks. A rank is a batch process, so TERM=dumb (set
// before anything touches the console) gives PaddleClas's plain lines.
if (Environment.GetEnvironmentVariable(World.SizeVariable) is not null) Environment.SetEnvironmentVariable("TERM", "dumb");

// An installed .NET tool carries TorchSharp's native library unpatched (the build patches its own output only):
// mark its GLIBCXX_3.4.32 need weak where this system's libstdc++ lacks it, before libtorch loads (idempotent, silent).
string natives = Path.Combine(AppContext.BaseDirectory, "runtimes");
if (Directory.Exists(natives)) Ppcls.NativeFix.NativeFixTool.Run(natives, TextWriter.Null);
NativeSetup.Initialize();
ICommunicator world;
try
{
    world = World.Initialize(); // Open MPI under mpirun; otherwise MPI is not loaded
}
catch (PpclsUserException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return PpclsCli.UserError;
}
if (world.Rank != 0) PpclsLog.ErrorsOnly();
int code = PpclsCli.Run(args, Console.Out, Console.Error, world); // what each command does under mpirun: RankRules
World.Shutdown();
return code;
