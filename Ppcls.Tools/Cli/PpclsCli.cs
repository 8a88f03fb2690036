using System.CommandLine;
using System.CommandLine.Help;
using Ppcls.Core;
using Ppcls.Core.Logging;
using Ppcls.Inference;
using Ppcls.Tools.Commands;

namespace Ppcls.Tools.Cli;

/// <summary>The `ppcls` command tree and its error policy: user mistakes print one line and exit 2.</summary>
public static class PpclsCli
{
    public const int UserError = 2;

    /// <summary>The root is named `ppcls` whatever process hosts it (the launcher, `dotnet ppcls.dll`, a test host).</summary>
    public static Command Build() =>
        new Command("ppcls", "Ppcls: PaddleClas-compatible image classification for .NET (train, eval, infer, export).")
    {
        new HelpOption(),
        new VersionOption(),
        TrainCommand.Build(),
        EvalCommand.Build(),
        InferCommand.Build(),
        ExportCommand.Build(),
        PredictCommand.Build(),
        ServeCommand.Build(),
        ModelsCommand.Build(),
        DatasetCommand.Build(),
        WeightsCommand.Build(),
        BenchmarkCommand.Build(),
        DoctorCommand.Build(),
    };

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Build();
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (PendingFeatureException e)
        {
            error.WriteLine($"error: {e.Message}");
            return PendingFeatureException.ExitCode;
        }
        catch (UserInputException e)
        {
            error.WriteLine($"error: {e.Message}");
            return UserError;
        }
        finally
        {
            PpclsLog.Close();
        }
    }
}
