using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Ppcls.Core.Checkpoint;

namespace Ppcls.Tools.Tests;

/// <summary>
/// A rank that fails under `mpirun -np 2`. One that stays alive but stops answering (SIGSTOP): the other
/// rank's next collective waits `Global.dist_timeout_s`, then the job ends with one line naming the
/// silent rank. One that dies (SIGKILL): mpirun ends the job. Either way the `latest` checkpoint saved
/// before still loads.
/// </summary>
[NonParallelizable]
public sealed class RankFaultTests
{
    const int SignalStop = 19, SignalKill = 9;

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    /// <summary>Whether the process has ended (gone, or a zombie nobody reaped: a container's first process may not), waiting up to 5 s.</summary>
    static bool Ended(int pid)
    {
        var clock = Stopwatch.StartNew();
        do
        {
            string stat;
            try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
            catch (IOException) { return true; }
            if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z')) return true;
            Thread.Sleep(100);
        } while (clock.Elapsed < TimeSpan.FromSeconds(5));
        return false;
    }

    [SetUp]
    public void NeedsMpirun() => MpiJob.RequireMpirun();

    [Test]
    public void A_stopped_rank_ends_the_job_after_the_timeout_with_one_line_naming_it_and_latest_intact()
    {
        using var demo = new DemoData();
        var (run, ended, stopped, latest) = SignalRankOneAfterAnEpoch(demo, SignalStop);

        Assert.That(run.ExitCode, Is.EqualTo(124), "the job's exit code is the one MPI_Abort was given");
        var lines = Regex.Matches(run.Error + run.Output, @"error: rank 1 of 2 did not reach MPI_\w+ within Global\.dist_timeout_s = 3 s and does not answer");
        Assert.That(lines.Count, Is.EqualTo(1), run.Output + run.Error);
        // 3 s timeout + 3 s roll call grace, plus the epoch in progress and MPI's teardown: bounded well below the 500 epochs' run.
        Assert.That(ended, Is.LessThan(TimeSpan.FromSeconds(30)));
        TestContext.Out.WriteLine($"job ended {ended.TotalSeconds:F1} s after rank 1 was stopped");
        Assert.That(Ended(stopped), Is.True, "mpirun killed the stopped rank too");
        AssertIntact(latest);
    }

    [Test]
    public void A_killed_rank_ends_the_job_through_mpirun_with_latest_intact()
    {
        using var demo = new DemoData();
        var (run, ended, _, latest) = SignalRankOneAfterAnEpoch(demo, SignalKill);

        Assert.That(run.ExitCode, Is.Not.Zero);
        Assert.That(run.Output + run.Error, Does.Contain("exited on signal 9"), "mpirun reports the dead rank");
        Assert.That(run.Output + run.Error, Does.Not.Contain("did not reach"), "no collective timed out: mpirun ended the job first");
        Assert.That(ended, Is.LessThan(TimeSpan.FromSeconds(30)));
        TestContext.Out.WriteLine($"job ended {ended.TotalSeconds:F1} s after rank 1 was killed");
        AssertIntact(latest);
    }

    static void AssertIntact(string latest)
    {
        Assert.That(SafeTensorsFile.Read(latest).Tensors, Has.Count.EqualTo(146), "latest holds every weight and buffer of PPLCNet_x0_25");
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(latest)!, "*.tmp*"), Is.Empty, "no checkpoint was left half written");
    }

    /// <summary>
    /// Trains PPLCNet_x0_25 on <paramref name="demo"/> under `mpirun -np 2` (500 epochs: far longer than the
    /// test), sends <paramref name="signal"/> to rank 1 once `latest` exists, and waits for the job's end;
    /// returns it, the time from the signal to the end, rank 1's process id and the `latest` weights file.
    /// </summary>
    static (CliRun Run, TimeSpan Ended, int Rank1, string Latest) SignalRankOneAfterAnEpoch(DemoData demo, int signal)
    {
        string output = demo.NewOutput();
        string latest = Path.Combine(output, "PPLCNet_x0_25", "latest.safetensors");
        var job = MpiJob.Start(2, "ppcls.dll", ["train", .. demo.Overrides(output, epochs: 500), "-o", "DataLoader.Train.sampler.batch_size=4",
            "-o", "Global.eval_during_train=False", "-o", "Global.dist_timeout_s=3"]);
        int? rank1 = null;
        try
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(latest) && !job.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(100);
            Assert.That(File.Exists(latest), Is.True, "the run saves latest after its first epoch");
            rank1 = job.RankProcess(1);
            Assert.That(rank1, Is.Not.Null, "rank 1's process is found by its environment");
            Assert.That(kill(rank1!.Value, signal), Is.Zero);
            var signalled = Stopwatch.StartNew();
            var run = job.Finish(TimeSpan.FromSeconds(60));
            return (run, signalled.Elapsed, rank1.Value, latest);
        }
        finally
        {
            if (rank1 is { } pid) kill(pid, SignalKill);
            if (!job.HasExited) job.Finish(TimeSpan.FromSeconds(10));
        }
    }
}
