using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Ppcls.Tools.Tests;

/// <summary>
/// Commands that do not run data-parallel, as users start them under `mpirun -np 2`: export runs on rank 0 alone
/// and writes each file once; infer is refused with one line and writes nothing (rules in RankRules).
/// </summary>
[NonParallelizable]
public sealed class RankRuleMpiTests
{
    const string Ppcls = "ppcls.dll";
    static readonly TimeSpan JobLimit = TimeSpan.FromSeconds(90);
    DemoData _demo = null!;
    string _weights = null!;

    [OneTimeSetUp]
    public void TrainOneEpoch()
    {
        MpiJob.RequireMpirun();
        _demo = new DemoData();
        string output = _demo.NewOutput();
        var train = CliRun.Of(["train", .. _demo.Overrides(output, epochs: 1), "-o", "Global.eval_during_train=False"]);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        _weights = Path.Combine(output, "PPLCNet_x0_25", "latest");
    }

    [OneTimeTearDown]
    public void RemoveData() => _demo?.Dispose();

    [Test]
    public void Export_under_mpirun_runs_on_rank_zero_alone_and_writes_each_file_once()
    {
        string output = _demo.NewOutput(), inference = Path.Combine(output, "inference");
        Directory.CreateDirectory(inference);
        using var writes = new CompletedFiles(inference);

        var run = MpiJob.Start(2, Ppcls, ["export", .. _demo.Overrides(output, epochs: 1), "-o", $"Global.pretrained_model={_weights}",
            "-o", $"Global.save_inference_dir={inference}", "-o", $"Infer.PostProcess.class_id_map_file={_demo.Data}/label_list.txt"]).Finish(JobLimit);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output + run.Error);
        Assert.That(Regex.Matches(run.Output, "Export succeeded!").Count, Is.EqualTo(1), run.Output);
        Assert.That(run.Output, Does.Not.Contain("rank 0 of 2"), "rank 0 runs it as a job of one, with all the cores");
        Assert.That(run.Error, Does.Not.Contain("error"));
        Assert.That(writes.CountsWhenSettled(), Is.EqualTo("inference.onnx x1, inference.yml x1"),
            "each file of the folder is written by one rank, once");
        string log = File.ReadAllText(Path.Combine(output, "PPLCNet_x0_25", "export.log"));
        Assert.That(Regex.Matches(log, "Export succeeded!").Count, Is.EqualTo(1));
    }

    [Test]
    public void A_failing_export_under_mpirun_prints_its_error_once_and_the_job_ends_with_its_code()
    {
        string output = _demo.NewOutput();

        var run = MpiJob.Start(2, Ppcls, ["export", .. _demo.Overrides(output, epochs: 1), "-o", $"Global.save_inference_dir={output}/inference"])
            .Finish(JobLimit);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.Output + run.Error);
        Assert.That(Regex.Matches(run.Output + run.Error, "error: Global.pretrained_model: not set").Count, Is.EqualTo(1), run.Output + run.Error);
        Assert.That(run.Output + run.Error, Does.Not.Contain("MPI_ABORT"), "the other rank exits by itself; nothing is killed");
        Assert.That(Directory.Exists(Path.Combine(output, "inference")), Is.False);
    }

    [Test]
    public void Infer_under_mpirun_is_refused_on_every_rank_with_one_line_and_writes_nothing()
    {
        string output = _demo.NewOutput();

        var run = MpiJob.Start(2, Ppcls, ["infer", .. _demo.Overrides(output, epochs: 1), "-o", $"Global.pretrained_model={_weights}",
            "-o", $"Infer.infer_imgs={_demo.Data}/images", "-o", $"Infer.PostProcess.class_id_map_file={_demo.Data}/label_list.txt"]).Finish(JobLimit);

        string both = run.Output + run.Error;
        Assert.That(run.ExitCode, Is.EqualTo(2), both);
        var errors = both.Split('\n').Where(l => l.Contains("error")).ToList();
        Assert.That(errors, Has.Count.EqualTo(1), both);
        Assert.That(errors[0], Does.StartWith("error: ppcls infer does not run data-parallel, and mpirun started it as 2 ranks; run it without mpirun"));
        Assert.That(both, Does.Not.Contain("infer done").And.Not.Contain("MPI_ABORT"));
        Assert.That(Directory.EnumerateFileSystemEntries(output), Is.Empty, "no rank ran: no infer.log, no folder");
    }

    /// <summary>Counts, per file name, the files completed in a folder: created there, or renamed into place (a temporary file's end).</summary>
    sealed class CompletedFiles : IDisposable
    {
        readonly FileSystemWatcher _watcher;
        readonly ConcurrentQueue<string> _names = new();

        public CompletedFiles(string folder)
        {
            _watcher = new FileSystemWatcher(folder) { NotifyFilter = NotifyFilters.FileName };
            _watcher.Created += (_, e) => _names.Enqueue(e.Name!);
            _watcher.Renamed += (_, e) => _names.Enqueue(e.Name!);
            _watcher.EnableRaisingEvents = true;
        }

        /// <summary>"name xN, ..." by name, temporary files left out, once the events of the finished job have arrived.</summary>
        public string CountsWhenSettled()
        {
            Thread.Sleep(TimeSpan.FromSeconds(1));
            return string.Join(", ", _names.Where(n => !n.Contains(".tmp-")).GroupBy(n => n).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} x{g.Count()}"));
        }

        public void Dispose() => _watcher.Dispose();
    }
}
