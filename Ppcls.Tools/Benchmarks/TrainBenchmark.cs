using Ppcls.Core;
using Ppcls.Core.Data;
using Ppcls.Core.Engine;
using Ppcls.Core.Logging;
using Ppcls.Tools.Cli;
using static TorchSharp.torch;

namespace Ppcls.Tools.Benchmarks;

/// <summary>
/// `ppcls benchmark train`: the real Trainer's step (model from Arch, loss from Loss.Train,
/// optimizer and schedule from Optimizer, metrics from Metric.Train) timed over two sources in
/// one run: the same batch held in memory (`synthetic`: the compute floor) and the loader of
/// DataLoader.Train (`real`). Each step's parts are timed inside <see cref="Trainer.TrainEpoch"/>
/// through its observer, so the `overhead` lines are the Trainer's own bookkeeping: step time
/// less reader wait, forward+loss, backward and optimizer.
/// </summary>
public static class TrainBenchmark
{
    /// <summary>Collects the train iterations the Trainer reports.</summary>
    sealed class Collector : ITrainingObserver
    {
        public List<IterationFinished> Iterations { get; } = [];
        public void OnEpochStarted(EpochStarted epoch) { }
        public void OnIterationFinished(IterationFinished iteration)
        {
            if (iteration.Phase == RunPhase.Train) Iterations.Add(iteration);
        }
        public void OnEpochFinished(EpochFinished epoch) { }
    }

    /// <summary>The figures of one source's timed steps.</summary>
    sealed record Phase(string Name, IReadOnlyList<StepTiming> Steps, int BatchSize)
    {
        public double SamplesPerSecond => Steps.Count * BatchSize / (Steps.Sum(s => (double)s.Total) / System.Diagnostics.Stopwatch.Frequency);
        public double Median(Func<StepTiming, long> part) => BenchmarkLine.Median(Steps.Select(s => StepTiming.Milliseconds(part(s))));
        public double Mean(Func<StepTiming, long> part) => Steps.Average(s => StepTiming.Milliseconds(part(s)));
        public double OverheadShare => (double)Steps.Sum(s => s.Overhead) / Steps.Sum(s => s.Total);
    }

    public static IReadOnlyList<BenchmarkLine> Run(RunSetup setup, int iterations, int warmup)
    {
        if (iterations < 1) throw new PpclsUserException($"--iters must be at least 1, got {iterations}");
        if (warmup < 0) throw new PpclsUserException($"--warmup must not be negative, got {warmup}");
        var collector = new Collector();
        var trainer = setup.Trainer(collector);
        using var run = trainer.Prepare();
        if (run.ItersPerEpoch < 1) throw new PpclsUserException("DataLoader.Train: no full batch to train on; lower the batch size");

        // The synthetic batch takes the real loader's batch shape and its first batch's labels (any kind: ids, soft, multi-label).
        long[] shape = [];
        Tensor? labels = null;
        foreach (var batch in run.TrainLoader.Epoch(0))
        {
            using (batch)
            {
                shape = batch.Images.shape;
                labels = batch.Labels.clone();
            }
            break;
        }
        int batchSize = (int)shape[0], size = (int)shape[2], threads = get_num_threads();
        string model = setup.Config.Arch.Name;
        int steps = warmup + iterations;

        using (var synthetic = InMemoryBatchSource.RandomImages(shape, labels!, setup.Config.Arch.ClassNum, steps, run.Seed))
            trainer.TrainEpoch(run, 1, synthetic, steps);
        var floor = new Phase("synthetic", [.. collector.Iterations.Skip(warmup).Select(i => i.Timing)], batchSize);

        collector.Iterations.Clear();
        for (int epoch = 1, left = steps; left > 0; epoch++)
        {
            int n = Math.Min(left, run.ItersPerEpoch);
            trainer.TrainEpoch(run, epoch, run.TrainLoader, n);
            left -= n;
        }
        var real = new Phase("real", [.. collector.Iterations.Skip(warmup).Select(i => i.Timing)], batchSize);

        BenchmarkLine Line(Phase p) =>
            new BenchmarkLine(model, p.Name, size, batchSize, threads) { SamplesPerSecond = p.SamplesPerSecond, MedianMs = p.Median(s => s.Total) }
                .With("mean_ms", p.Mean(s => s.Total)).With("steps", p.Steps.Count)
                .With("reader_ms", p.Median(s => s.Reader)).With("forward_ms", p.Median(s => s.Forward))
                .With("backward_ms", p.Median(s => s.Backward)).With("optimizer_ms", p.Median(s => s.Optimizer))
                .With("overhead_ms", p.Median(s => s.Overhead));

        BenchmarkLine Overhead(Phase p) =>
            new BenchmarkLine(model, "overhead", size, batchSize, threads) { MedianMs = p.Median(s => s.Overhead) }
                .With("source", p.Name).With("mean_ms", p.Mean(s => s.Overhead))
                .With("share", p.OverheadShare).With("step_median_ms", p.Median(s => s.Total))
                .With("compute_median_ms", p.Median(s => s.Forward + s.Backward + s.Optimizer));

        return
        [
            Line(floor),
            Line(real),
            // A ratio line repeats its numerator's figures and adds the ratios.
            new BenchmarkLine(model, "real/synthetic", size, batchSize, threads) { SamplesPerSecond = real.SamplesPerSecond, MedianMs = real.Median(s => s.Total) }
                .With("ratio", real.SamplesPerSecond / floor.SamplesPerSecond)
                .With("median_ratio", floor.Median(s => s.Total) / real.Median(s => s.Total)),
            Overhead(floor),
            Overhead(real),
        ];
    }
}
