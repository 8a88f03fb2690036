using System.CommandLine;
using System.CommandLine.Parsing;

namespace Ppcls.Tools.Cli;

/// <summary>
/// The one table of what each `ppcls` command does under `mpirun -np N` (N &gt; 1), read by
/// <see cref="PpclsCli.Run(string[], TextWriter, TextWriter, Ppcls.Core.Distributed.ICommunicator)"/>.
/// A command missing here is refused (tests check that every command is listed).
/// </summary>
public static class RankRules
{
    public static readonly IReadOnlyDictionary<string, RankRule> ByCommand = new Dictionary<string, RankRule>
    {
        // The ranks share the work, as under PaddleClas's paddle.distributed.launch (README "Data-parallel training (MPI)").
        ["train"] = RankRule.DataParallel,
        ["eval"] = RankRule.DataParallel,
        ["benchmark dist"] = RankRule.DataParallel,

        // One result whatever the rank count: rank 0 makes it, as a torchrun script saves on rank 0 only.
        ["export"] = RankRule.RankZeroOnly,
        ["models list"] = RankRule.RankZeroOnly,
        ["models info"] = RankRule.RankZeroOnly,
        ["dataset split"] = RankRule.RankZeroOnly,
        ["dataset make-demo"] = RankRule.RankZeroOnly,
        ["weights list"] = RankRule.RankZeroOnly,
        ["weights convert"] = RankRule.RankZeroOnly,
        ["doctor"] = RankRule.RankZeroOnly,

        // Work a user would expect mpirun to split (PaddleClas's infer shards infer_imgs over ranks) or that cannot be
        // shared (one port, timings of one process); Ppcls does not split it, so it says so instead of running N copies.
        ["infer"] = RankRule.Refused,
        ["predict"] = RankRule.Refused,
        ["serve"] = RankRule.Refused,
        ["benchmark train"] = RankRule.Refused,
        ["benchmark step"] = RankRule.Refused,
        ["benchmark malloc"] = RankRule.Refused,
        ["benchmark profile"] = RankRule.Refused,
        ["benchmark data"] = RankRule.Refused,
        ["benchmark infer"] = RankRule.Refused,
        ["benchmark serve"] = RankRule.Refused,
    };

    /// <summary>
    /// The rule for a parsed command line: its command's, except that help, --version and a command line that does
    /// not parse (a group without its subcommand included) print their text once, from rank 0.
    /// </summary>
    public static RankRule Of(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (parse.Action is null || parse.Action != command.Action) return RankRule.RankZeroOnly;
        return ByCommand.GetValueOrDefault(PathOf(parse.CommandResult), RankRule.Refused);
    }

    /// <summary>The line rank 0 prints for a refused command.</summary>
    public static string Refusal(ParseResult parse, int ranks) =>
        $"ppcls {PathOf(parse.CommandResult)} does not run data-parallel, and mpirun started it as {ranks} ranks; run it without mpirun " +
        $"(one process uses all the cores); the data-parallel commands are {string.Join(", ", ByCommand.Where(c => c.Value == RankRule.DataParallel).Select(c => c.Key))}";

    /// <summary>The command's names under the root, such as "benchmark dist".</summary>
    public static string PathOf(CommandResult result)
    {
        var names = new List<string>();
        for (var r = result; r.Parent is CommandResult parent; r = parent) names.Insert(0, r.Command.Name);
        return string.Join(' ', names);
    }
}
