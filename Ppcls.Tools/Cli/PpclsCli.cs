using System.CommandLine;
using System.CommandLine.Help;
using Ppcls.Core;
using Ppcls.Core.Distributed;
using Ppcls.Core.Logging;
using Ppcls.Inference;
using Ppcls.Tools.Commands;

namespace Ppcls.Tools.Cli;

/// <summary>
/// The `ppcls` command tree and its policies: user mistakes print one line and exit 2; under mpirun each command runs
/// by its <see cref="RankRule"/>.
/// </summary>
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

    /// <summary>Runs a command line in the job <see cref="World.Current"/> (Program's; a single process in tests).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error) => Run(args, output, error, World.Current);

    /// <summary>
    /// Runs a command line on this rank of <paramref name="job"/> by its command's <see cref="RankRule"/>; with one
    /// rank, simply runs it.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, ICommunicator job)
    {
        var parse = Build().Parse(args);
        if (job.Size == 1) return Invoke(parse, output, error);
        switch (RankRules.Of(parse))
        {
            case RankRule.Refused:
                if (job.Rank == 0) error.WriteLine($"error: {RankRules.Refusal(parse, job.Size)}");
                return UserError;
            case RankRule.RankZeroOnly:
                try
                {
                    return job.Rank == 0 ? World.RunAlone(() => Invoke(parse, output, error)) : 0;
                }
                finally
                {
                    job.WaitForRankZero();
                }
            case RankRule.DataParallel:
            default:
                int code = Invoke(parse, output, error);
                // A rank that failed ends the job: the others may be waiting for it in a collective.
                if (code != 0) job.Abort(code);
                return code;
        }
    }

    static int Invoke(ParseResult parse, TextWriter output, TextWriter error)
    {
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return parse.Invoke(config);
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
