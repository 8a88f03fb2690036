using Ppcls.Core;
using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
using Ppcls.Core.Engine;
using Ppcls.Core.Logging;
using Ppcls.Tools.Cli;
using static TorchSharp.torch;

namespace Ppcls.Tools.Benchmarks;

/// <summary>
/// One rank count's figure for `ppcls benchmark dist`: the Trainer's data-parallel step (the
/// config's per-rank batch held in memory, as `benchmark train`'s synthetic phase) in the job this
/// process belongs to. With more than one rank the steps alternate between the gradient all-reduce
/// started during backward (the training setting) and started after it, so both are timed under the
/// same load; `--iters` steps of each. Every step ends in the all-reduce, so the ranks advance in lock
/// step and rank 0's times are the job's. Figures are medians over the timed steps, so a step stalled
/// by other work on the machine does not move them.
/// </summary>
public static class DistributedBenchmark
{
    sealed record Step(bool Overlapped, double TotalMs, double AfterBackwardMs, int StartedDuringBackward, IReadOnlyList<double> StartShares);

    /// <summary>Records each train step, then switches the overlap for the next one.</summary>
    sealed class Steps(Func<GradientAllReduce?> sync) : ITrainingObserver
    {
        public List<Step> Timed { get; } = [];
        public void OnEpochStarted(EpochStarted epoch) { }
        public void OnIterationFinished(IterationFinished iteration)
        {
            if (iteration.Phase != RunPhase.Train) return;
            var reduce = sync();
            Timed.Add(new Step(reduce?.Overlap ?? false, StepTiming.Milliseconds(iteration.Timing.Total),
                reduce?.LastElapsed.TotalMilliseconds ?? 0, reduce?.LastStartedDuringBackward ?? 0, reduce?.LastStartShares ?? []));
            if (reduce is not null) reduce.Overlap = !reduce.Overlap;
        }
        public void OnEpochFinished(EpochFinished epoch) { }
    }

    public static BenchmarkLine Run(RunSetup setup, ICommunicator world, int iterations, int warmup)
    {
        if (iterations < 1) throw new PpclsUserException($"--iters must be at least 1, got {iterations}");
        if (warmup < 0) throw new PpclsUserException($"--warmup must not be negative, got {warmup}");
        TrainingRun? current = null;
        var steps = new Steps(() => current?.GradientSync);
        var trainer = setup.Trainer(steps);
        using var run = current = trainer.Prepare();
        long[] shape = [];
        Tensor? labels = null;
        foreach (var batch in run.TrainLoader.Epoch(0))
        {
            using (batch) (shape, labels) = (batch.Images.shape, batch.Labels.clone());
            break;
        }
        if (shape.Length == 0) throw new PpclsUserException("DataLoader.Train: no batch to time; add images or lower the batch size");
        int modes = run.GradientSync is null ? 1 : 2;
        using var synthetic = InMemoryBatchSource.RandomImages(shape, labels!, setup.Config.Arch.ClassNum, modes * (warmup + iterations), run.Seed + world.Rank);
        if (warmup > 0) trainer.TrainEpoch(run, 1, synthetic, modes * warmup);
        steps.Timed.Clear();
        trainer.TrainEpoch(run, 2, synthetic, modes * iterations);

        int batchSize = (int)shape[0];
        var overlapped = steps.Timed.Where(s => s.Overlapped || modes == 1).ToList();
        var after = steps.Timed.Where(s => !s.Overlapped).ToList();
        double stepMs = BenchmarkLine.Median(overlapped.Select(s => s.TotalMs));
        long parameters = setup.Model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        var line = new BenchmarkLine(setup.Config.Arch.Name, $"ranks_{world.Size}", (int)shape[2], batchSize, get_num_threads())
            {
                SamplesPerSecond = world.Size * batchSize * 1000.0 / stepMs,
                MedianMs = stepMs,
            }
            .With("ranks", world.Size).With("global_batch", world.Size * batchSize)
            .With("mean_ms", overlapped.Average(s => s.TotalMs));
        if (run.GradientSync is not { } sync) return line.With("steps", overlapped.Count);
        // The all-reduce after backward is the whole communication; started during backward, what is left after it is exposed.
        double allReduceMs = BenchmarkLine.Median(after.Select(s => s.AfterBackwardMs));
        double exposedMs = BenchmarkLine.Median(overlapped.Select(s => s.AfterBackwardMs));
        return line
            .With("median_ms_allreduce_after_backward", BenchmarkLine.Median(after.Select(s => s.TotalMs)))
            .With("allreduce_ms", allReduceMs).With("exposed_ms", exposedMs).With("hidden_ms", allReduceMs - exposedMs)
            .With("exposed_share", exposedMs / stepMs)
            .With("gradient_mib", parameters * sizeof(float) / 1048576.0).With("buckets", sync.BucketElements.Count)
            .With("buckets_started_in_backward", BenchmarkLine.Median(overlapped.Select(s => (double)s.StartedDuringBackward)))
            .With("bucket_mib", sync.BucketElements.Select(n => Math.Round(n * sizeof(float) / 1048576.0, 3)).ToArray())
            .With("bucket_start_share", Enumerable.Range(0, sync.BucketElements.Count)
                .Select(b => Math.Round(BenchmarkLine.Median(overlapped.Select(s => s.StartShares[b])), 3)).ToArray())
            .With("steps", overlapped.Count);
    }
}
