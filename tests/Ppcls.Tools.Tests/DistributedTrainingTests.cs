using System.Text.Json;
using System.Text.RegularExpressions;
using Ppcls.Core.Checkpoint;
using static TorchSharp.torch;

namespace Ppcls.Tools.Tests;

/// <summary>
/// Data-parallel training as users run it: `mpirun -np 2` on this machine, Open MPI underneath.
/// The weights test uses the probe (the real Trainer on a BN-free toy network: BatchNorm's batch
/// statistics are per rank, so only a BN-free model reaches the same weights with 2 x B as with 1 x 2B).
/// </summary>
[NonParallelizable]
public sealed class DistributedTrainingTests
{
    const string Probe = "Ppcls.MpiProbe.dll", Ppcls = "ppcls.dll";
    DemoData _demo = null!;

    [OneTimeSetUp]
    public void MakeData() => _demo = new DemoData();

    [OneTimeTearDown]
    public void RemoveData() => _demo.Dispose();

    [SetUp]
    public void NeedsMpirun() => MpiJob.RequireMpirun();

    /// <summary>The demo set (32 training images, 8 for eval) with training batches of <paramref name="batch"/> per rank.</summary>
    string[] Args(string output, int epochs, int batch) =>
        [.. _demo.Overrides(output, epochs), "-o", $"DataLoader.Train.sampler.batch_size={batch}", "-o", "DataLoader.Eval.sampler.batch_size=4"];

    static Dictionary<string, Tensor> Weights(string output) =>
        SafeTensorsFile.Read(Path.Combine(output, "PPLCNet_x0_25", "latest.safetensors")).Tensors;

    static double MaxDifference(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b)
    {
        Assert.That(a.Keys.Order(), Is.EqualTo(b.Keys.Order()));
        return a.Keys.Max(k => (a[k] - b[k]).abs().max().item<float>());
    }

    static string LastLine(string text, string marker) =>
        text.Split('\n').Last(l => l.Contains(marker)).Split("INFO: ")[1].Trim();

    [Test]
    public void Two_ranks_with_batch_4_reach_the_weights_of_one_rank_with_batch_8()
    {
        string twoRanks = _demo.NewOutput(), oneRank = _demo.NewOutput(), halfBatch = _demo.NewOutput(), twoRanksAccumulating = _demo.NewOutput();
        // 2 KiB buckets: the toy network's gradients in 3, two of them started during backward.
        var two = MpiJob.Run(2, Probe, [.. Args(twoRanks, epochs: 2, batch: 4), "-o", "Global.dist_bucket_mb=0.002"]);
        var one = MpiJob.Run(1, Probe, Args(oneRank, epochs: 2, batch: 8));
        var half = MpiJob.Run(1, Probe, Args(halfBatch, epochs: 2, batch: 4));
        // Gradient accumulation: the buckets start only in the backward of each second micro-batch.
        var accumulating = MpiJob.Run(2, Probe, [.. Args(twoRanksAccumulating, epochs: 2, batch: 2), "-o", "Global.update_freq=2", "-o", "Global.dist_bucket_mb=0.002"]);
        Assert.That((two.ExitCode, one.ExitCode, half.ExitCode, accumulating.ExitCode), Is.EqualTo((0, 0, 0, 0)), two.Error + one.Error + half.Error + accumulating.Error);
        Assert.That(two.Output, Does.Contain("data parallel: 2 ranks (mpi), weights from rank 0").And.Contain("global batch 8"));
        Assert.That(two.Output, Does.Contain("in 3 bucket(s)").And.Contain("(2 started during backward as soon as it fills them"));
        Assert.That(Regex.Matches(two.Output, "probe done").Count, Is.EqualTo(1), "only rank 0 logs");
        Assert.That(two.Output, Does.Contain("probe done: 2 epochs, rank 0 of 2"));
        Assert.That(one.Output, Does.Contain("probe done: 2 epochs, rank 0 of 1").And.Not.Contain("data parallel"));

        // 8 optimizer steps of Momentum on the mean gradient of the same 8 images each: equal up to float rounding.
        double sameTotalBatch = MaxDifference(Weights(twoRanks), Weights(oneRank));
        double accumulated = MaxDifference(Weights(twoRanksAccumulating), Weights(oneRank));
        double otherBatch = MaxDifference(Weights(halfBatch), Weights(oneRank));
        Assert.That(sameTotalBatch, Is.LessThan(1e-5));
        Assert.That(accumulated, Is.LessThan(1e-5), "2 ranks x batch 2 x update_freq 2: the same 8 images per optimizer step");
        Assert.That(otherBatch, Is.GreaterThan(1e-3), "a run of other steps lands elsewhere, so the tolerance tells them apart");
        // Eval summed over both ranks' halves of the eval list equals the single process's eval of all of it.
        Assert.That(LastLine(two.Output, "[Eval][Epoch 2][Avg]"), Is.EqualTo(LastLine(one.Output, "[Eval][Epoch 2][Avg]")));
    }

    [Test]
    public void Benchmark_dist_times_one_and_two_ranks_with_the_all_reduce_during_and_after_backward_and_the_speed_up()
    {
        // 0.25 MiB buckets: PPLCNet_x0_25's 0.94 MiB of gradients in 4, so 3 can start during backward.
        var run = CliRun.Of(["benchmark", "dist", .. Args(_demo.NewOutput(), epochs: 1, batch: 4), "-o", "Global.dist_bucket_mb=0.25",
            "--ranks", "1,2", "--iters", "2", "--warmup", "1"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var lines = run.Output.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.That(lines.Select(l => l.GetProperty("phase").GetString()), Is.EqualTo(new[] { "ranks_1", "ranks_2", "ranks_2/ranks_1" }));
        var (one, two) = (lines[0], lines[1]);
        Assert.That((one.GetProperty("global_batch").GetInt32(), two.GetProperty("global_batch").GetInt32()), Is.EqualTo((4, 8)));
        Assert.That((one.GetProperty("steps").GetInt32(), two.GetProperty("steps").GetInt32()), Is.EqualTo((2, 2)), "--iters steps of each kind");
        Assert.That(one.TryGetProperty("allreduce_ms", out _), Is.False, "one rank has no all-reduce");
        Assert.That(two.GetProperty("buckets").GetInt32(), Is.EqualTo(4));
        Assert.That(two.GetProperty("buckets_started_in_backward").GetDouble(), Is.EqualTo(3), "every bucket but the first layers' starts during backward");
        // What is left after backward cannot exceed the whole all-reduce by much (both are medians of 2 steps), and the figures add up.
        double allReduce = two.GetProperty("allreduce_ms").GetDouble(), exposed = two.GetProperty("exposed_ms").GetDouble();
        double step = two.GetProperty("median_ms").GetDouble();
        Assert.That(allReduce, Is.GreaterThan(0).And.LessThanOrEqualTo(two.GetProperty("median_ms_allreduce_after_backward").GetDouble() + 1e-3));
        Assert.That(exposed, Is.GreaterThan(0).And.LessThanOrEqualTo(step + 1e-3));
        Assert.That(two.GetProperty("hidden_ms").GetDouble(), Is.EqualTo(allReduce - exposed).Within(2e-3));
        Assert.That(two.GetProperty("exposed_share").GetDouble(), Is.EqualTo(exposed / step).Within(2e-3));
        // PPLCNet_x0_25 with 4 classes: 245,308 float32 gradients.
        Assert.That(two.GetProperty("gradient_mib").GetDouble(), Is.EqualTo(245_308 * 4 / 1048576.0).Within(1e-4));
        // JSON rounds samples_per_s to 2 decimals and median_ms to 3: at a 15 ms step that is up to 0.014 samples/s, so the tolerance is relative.
        foreach (var line in new[] { one, two })
            Assert.That(line.GetProperty("samples_per_s").GetDouble(),
                Is.EqualTo(line.GetProperty("global_batch").GetInt32() * 1000.0 / line.GetProperty("median_ms").GetDouble()).Within(0.05).Percent);
        Assert.That(lines[2].GetProperty("speedup").GetDouble(),
            Is.EqualTo(two.GetProperty("samples_per_s").GetDouble() / one.GetProperty("samples_per_s").GetDouble()).Within(1e-3));
    }

    [Test]
    public void Ppcls_train_under_mpirun_with_sync_bn_logs_and_saves_once_and_resumes_on_one_rank()
    {
        string output = _demo.NewOutput();
        // 0.25 MiB buckets: the gradient all-reduces started during backward interleave with SyncBN's, in the same order on both ranks.
        var two = MpiJob.Run(2, Ppcls, ["train", .. Args(output, epochs: 1, batch: 4), "-o", "Arch.use_sync_bn=True", "-o", "Global.dist_bucket_mb=0.25"]);
        Assert.That(two.ExitCode, Is.EqualTo(0), two.Error);
        string both = two.Output + two.Error;
        int escape = both.IndexOf('\u001b');
        Assert.That(escape, Is.EqualTo(-1), () => $"a terminal escape from a rank's console: {both.Substring(Math.Max(0, escape - 40), Math.Min(both.Length - Math.Max(0, escape - 40), 100)).Replace("\u001b", "<ESC>")}");
        string log = File.ReadAllText(Path.Combine(output, "PPLCNet_x0_25", "train.log"));
        Assert.That(log, Does.Contain("rank 0 of 2").And.Contain("data parallel: 2 ranks (mpi)").And.Contain("(3 started during backward"));
        Assert.That(log, Does.Contain("Arch.use_sync_bn: 27 BatchNorm layer(s) take their training statistics over the batches of all 2 ranks"));
        Assert.That(Regex.Matches(log, @"\[Train\]\[Epoch 1/1\]\[Avg\]").Count, Is.EqualTo(1), "rank 0 alone writes the log");
        Assert.That(log, Does.Contain("4 iterations per epoch"), "32 images in global batches of 2 x 4");
        Assert.That(File.Exists(Path.Combine(output, "PPLCNet_x0_25", "latest.safetensors")), Is.True);

        // The 2-rank eval (each rank half of the 8 eval images) equals one process evaluating all of them.
        string trainedEval = LastLine(log, "[Eval][Epoch 1][Avg]");
        var eval = CliRun.Of(["eval", .. Args(output, 1, 4), "-o", $"Global.pretrained_model={output}/PPLCNet_x0_25/latest"]);
        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        string evalLog = File.ReadAllText(Path.Combine(output, "PPLCNet_x0_25", "eval.log"));
        Assert.That(LastLine(evalLog, "[Eval][Epoch 0][Avg]").Replace("Epoch 0", "Epoch 1"), Is.EqualTo(trainedEval));

        // Resume on one rank: 8 steps per epoch now, so the LR schedule goes on from step 8, not 4.
        var one = MpiJob.Run(1, Ppcls, ["train", .. Args(output, epochs: 2, batch: 4), "-o", $"Global.checkpoints={output}/PPLCNet_x0_25/latest", "-o", "Arch.use_sync_bn=True"]);
        Assert.That(one.ExitCode, Is.EqualTo(0), one.Error);
        Assert.That(one.Output, Does.Contain("Arch.use_sync_bn: one rank, so BatchNorm is plain BatchNorm"));
        Assert.That(one.Output, Does.Contain("was at step 4 after epoch 1; with 8 step(s) per epoch now (ranks or batch size changed) the LR schedule continues from step 8"));
        Assert.That(one.Output, Does.Contain("[Train][Epoch 2/2][Iter: 7/8]").And.Contain("training done: 2 epoch(s)"));
        // The resumed epoch's learning rates are those of a 1-rank run that never stopped: the schedule continued, not restarted.
        var uninterrupted = MpiJob.Run(1, Ppcls, ["train", .. Args(_demo.NewOutput(), epochs: 2, batch: 4)]);
        Assert.That(uninterrupted.ExitCode, Is.EqualTo(0), uninterrupted.Error);
        Assert.That(LearningRates(one.Output, epoch: 2), Has.Count.EqualTo(8).And.EqualTo(LearningRates(uninterrupted.Output, epoch: 2)));
    }

    static List<string> LearningRates(string output, int epoch) =>
        [.. Regex.Matches(output, $@"\[Train\]\[Epoch {epoch}/\d+\]\[Iter: \d+/\d+\]lr\(\w+\): ([0-9.e-]+)").Select(m => m.Groups[1].Value)];
}
