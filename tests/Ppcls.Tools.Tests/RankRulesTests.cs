using System.CommandLine;
using Ppcls.Core.Distributed;
using Ppcls.Tools.Cli;
using static TorchSharp.torch;

namespace Ppcls.Tools.Tests;

/// <summary>
/// What each command does under `mpirun -np N`: the table covers every command, and the dispatcher applies it on
/// each rank of a stand-in two-rank job (no MPI). The real job runs in <see cref="RankRuleMpiTests"/>.
/// </summary>
public sealed class RankRulesTests
{
    /// <summary>One rank of two, recording what the dispatcher asked of the job.</summary>
    sealed class RankOfTwo(int rank) : ICommunicator
    {
        public int Waits { get; private set; }
        public int? AbortedWith { get; private set; }
        public int Rank => rank;
        public int Size => 2;
        public int LocalRank => rank;
        public int LocalSize => 2;
        public string Backend => "test";
        public TimeSpan Timeout { get; set; }

        public void WaitForRankZero() => Waits++;
        public void Abort(int exitCode) => AbortedWith = exitCode;
        public void AllReduceSum(Tensor buffer) => throw new NotSupportedException();
        public void AllReduceSum(double[] values) => throw new NotSupportedException();
        public void Broadcast(Tensor buffer, int root) => throw new NotSupportedException();
        public void Broadcast(long[] values, int root) => throw new NotSupportedException();
        public void Dispose() { }
    }

    static (CliRun Run, RankOfTwo Job) OnRank(int rank, params string[] args)
    {
        var job = new RankOfTwo(rank);
        var (output, error) = (new StringWriter(), new StringWriter());
        int code = PpclsCli.Run(args, output, error, job);
        return (new CliRun(code, output.ToString(), error.ToString()), job);
    }

    /// <summary>The path of every command that does something itself ("benchmark dist"; not the group "benchmark").</summary>
    static IEnumerable<string> RunnableCommands(Command command, string prefix = "")
    {
        foreach (var sub in command.Subcommands)
        {
            string path = (prefix + " " + sub.Name).Trim();
            if (sub.Action is not null) yield return path;
            foreach (var nested in RunnableCommands(sub, path)) yield return nested;
        }
    }

    [Test]
    public void Every_command_has_one_rank_rule_and_only_train_eval_and_benchmark_dist_are_data_parallel()
    {
        Assert.That(RankRules.ByCommand.Keys, Is.EquivalentTo(RunnableCommands(PpclsCli.Build())),
            "a new command decides what it does under mpirun in RankRules.ByCommand");
        Assert.That(RankRules.ByCommand.Where(c => c.Value == RankRule.DataParallel).Select(c => c.Key),
            Is.EquivalentTo(new[] { "train", "eval", "benchmark dist" }));
        Assert.That(RankRules.ByCommand["export"], Is.EqualTo(RankRule.RankZeroOnly));
        Assert.That(RankRules.ByCommand["infer"], Is.EqualTo(RankRule.Refused));
    }

    [Test]
    public void A_refused_command_runs_on_no_rank_and_rank_zero_alone_says_to_run_it_without_mpirun()
    {
        // Run, the command would report the missing config file instead.
        var (zero, zeroJob) = OnRank(0, "infer", "-c", "no-such-config.yaml");
        var (one, oneJob) = OnRank(1, "infer", "-c", "no-such-config.yaml");

        Assert.That((zero.ExitCode, one.ExitCode), Is.EqualTo((2, 2)));
        Assert.That(zero.Output, Is.Empty);
        Assert.That(zero.Error.TrimEnd().Split('\n'), Is.EqualTo(new[]
        {
            "error: ppcls infer does not run data-parallel, and mpirun started it as 2 ranks; run it without mpirun " +
            "(one process uses all the cores); the data-parallel commands are train, eval, benchmark dist",
        }));
        Assert.That(one.Output + one.Error, Is.Empty);
        Assert.That((zeroJob.Waits, oneJob.Waits, zeroJob.AbortedWith, oneJob.AbortedWith), Is.EqualTo((0, 0, (int?)null, (int?)null)),
            "every rank refuses by itself: nothing to wait for, nothing to abort");
    }

    [Test]
    public void A_rank_zero_command_prints_once_and_every_rank_waits_for_rank_zero()
    {
        var (zero, zeroJob) = OnRank(0, "models", "list");
        var (one, oneJob) = OnRank(1, "models", "list");

        Assert.That((zero.ExitCode, one.ExitCode), Is.EqualTo((0, 0)));
        Assert.That(zero.Output, Does.Contain("  PPLCNet_x0_25\n"));
        Assert.That(one.Output + one.Error, Is.Empty);
        Assert.That((zeroJob.Waits, oneJob.Waits), Is.EqualTo((1, 1)));
    }

    [TestCase("--help")]
    [TestCase("--version")]
    [TestCase("export", "--help")]
    [TestCase("infer", "--no-such-option")]
    [TestCase("benchmark")]
    public void Help_version_and_parse_errors_print_once_from_rank_zero(params string[] args)
    {
        var (zero, _) = OnRank(0, args);
        var (one, oneJob) = OnRank(1, args);

        Assert.That(zero.Output + zero.Error, Is.Not.Empty);
        Assert.That(zero.Error, Does.Not.Contain("data-parallel"));
        Assert.That((one.ExitCode, one.Output + one.Error, oneJob.Waits), Is.EqualTo((0, "", 1)));
    }

    [Test]
    public void A_data_parallel_command_that_fails_on_a_rank_ends_the_job_with_its_code()
    {
        var (one, oneJob) = OnRank(1, "train", "-c", "no-such-config.yaml");

        Assert.That(one.ExitCode, Is.EqualTo(2));
        Assert.That(one.Error, Does.Contain("no-such-config.yaml"));
        Assert.That(oneJob.AbortedWith, Is.EqualTo(2), "the other ranks may be waiting for it in a collective");
    }
}
