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
/// process belongs to. Every step ends in the gradient all-reduce, so the ranks advance in lock
/// step and rank 0's step times are the job's. Figures are medians over the timed steps, so a
/// step stalled by other work on the machine does not move them.
/// </summary>
public static class DistributedBenchmark
{
    /// <summary>Each train step's total time and the all-reduce time within it.</summary>
    sealed class Steps(Func<TimeSpan> lastAllReduce) : ITrainingObserver
    {
        public List<(double TotalMs, double AllReduceMs)> Timed { get; } = [];
        public void OnEpochStarted(EpochStarted epoch) { }
        public void OnIterationFinished(IterationFinished iteration)
        {
            if (iteration.Phase == RunPhase.Train)
                Timed.Add((StepTiming.Milliseconds(iteration.Timing.Total), lastAllReduce().TotalMilliseconds));
        }
        public void OnEpochFinished(EpochFinished epoch) { }
    }

    public static BenchmarkLine Run(RunSetup setup, ICommunicator world, int iterations, int warmup)
    {
        if (iterations < 1) throw new PpclsUserException($"--iters must be at least 1, got {iterations}");
        if (warmup < 0) throw new PpclsUserException($"--warmup must not be negative, got {warmup}");
        TrainingRun? current = null;
        var steps = new Steps(() => current?.GradientSync?.LastElapsed ?? TimeSpan.Zero);
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
        using var synthetic = InMemoryBatchSource.RandomImages(shape, labels!, setup.Config.Arch.ClassNum, warmup + iterations, run.Seed + world.Rank);
        if (warmup > 0) trainer.TrainEpoch(run, 1, synthetic, warmup);
        steps.Timed.Clear();
        trainer.TrainEpoch(run, 2, synthetic, iterations);

        int batchSize = (int)shape[0];
        double stepMs = BenchmarkLine.Median(steps.Timed.Select(s => s.TotalMs));
        double allReduceMs = BenchmarkLine.Median(steps.Timed.Select(s => s.AllReduceMs));
        long parameters = setup.Model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        return new BenchmarkLine(setup.Config.Arch.Name, $"ranks_{world.Size}", (int)shape[2], batchSize, get_num_threads())
            {
                SamplesPerSecond = world.Size * batchSize * 1000.0 / stepMs,
                MedianMs = stepMs,
            }
            .With("ranks", world.Size).With("global_batch", world.Size * batchSize)
            .With("mean_ms", steps.Timed.Average(s => s.TotalMs))
            .With("allreduce_ms", allReduceMs).With("allreduce_share", allReduceMs / stepMs)
            .With("gradient_mib", parameters * sizeof(float) / 1048576.0).With("buckets", run.GradientSync?.BucketElements.Count ?? 0)
            .With("steps", steps.Timed.Count);
    }
}
