using System.Diagnostics;
using OpenCvSharp;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Core.Logging;
using Ppcls.Data.Datasets;
using Ppcls.Data.Imaging;
using Ppcls.Data.Loading;
using static TorchSharp.torch;

namespace Ppcls.Data.Tools;

/// <summary>
/// `ppcls benchmark data`: images/s of one loader config, measured in one run: read + decode
/// only on 1..k threads (`decode`), the full chain into batch tensors on one thread (`chain`),
/// and the loader with 1..k workers (`loader`), all on the same images. The stages run in interleaved rounds
/// (decode, chain, loaders; again ...), after one untimed round, so that a change in machine load touches every stage;
/// each stage reports its median over the rounds, and the ratios (chain/decode, decode k/decode 1,
/// loader k/loader 1) are medians of the per-round ratios. Each result prints as a
/// <see cref="BenchmarkLine"/> (phase = stage, samples_per_s = images/s). <see cref="ProfileOps"/>
/// splits the chain's time by op.
/// </summary>
public static class DataBenchmark
{
    /// <param name="Stage">decode, chain or loader.</param>
    /// <param name="ImageSize">Height of the loader's output images.</param>
    /// <param name="BatchSize">The sampler's batch size.</param>
    /// <param name="CpuSeconds">The process's CPU time over the stage (all threads).</param>
    public sealed record Measurement(string Stage, int Workers, int Images, double Seconds, double CpuSeconds, int ImageSize, int BatchSize)
    {
        public double ImagesPerSecond => Images / Seconds;

        /// <summary>The shared benchmark line; <paramref name="model"/> is the config's Arch.name; `cores_busy` is CPU time over wall time.</summary>
        public BenchmarkLine ToLine(string model) =>
            new BenchmarkLine(model, Stage, ImageSize, BatchSize, get_num_threads()) { SamplesPerSecond = ImagesPerSecond }
                .With("workers", Workers).With("images", Images).With("seconds", Seconds)
                .With("cores_busy", Math.Round(CpuSeconds / Seconds, 2));
    }

    /// <summary>Wall and process CPU time since it started.</summary>
    sealed class StageClock
    {
        readonly Stopwatch _wall = new();
        TimeSpan _cpuAtStart;

        public void Restart()
        {
            _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
            _wall.Restart();
        }

        public (double Wall, double Cpu) Elapsed()
        {
            double wall = _wall.Elapsed.TotalSeconds;
            return (wall, (Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart).TotalSeconds);
        }
    }

    /// <summary>A stage's median over the rounds (its seconds are those of the median round).</summary>
    public sealed record Summary(Measurement Median, int Rounds)
    {
        public BenchmarkLine ToLine(string model) => Median.ToLine(model).With("rounds", Rounds);
    }

    /// <summary>
    /// The median over rounds of one stage's images/s divided by another's (<paramref name="Phase"/>
    /// names both, e.g. `loader2/loader1`); the line repeats the first stage's median images/s, as
    /// every ratio line does.
    /// </summary>
    public sealed record Ratio(string Phase, double Value, double StageImagesPerSecond, int ImageSize, int BatchSize)
    {
        public BenchmarkLine ToLine(string model) =>
            new BenchmarkLine(model, Phase, ImageSize, BatchSize, get_num_threads()) { SamplesPerSecond = StageImagesPerSecond }
                .With("ratio", Math.Round(Value, 3));
    }

    /// <summary>Runs <paramref name="rounds"/> interleaved rounds; returns each stage's median and the ratios.</summary>
    public static (IReadOnlyList<Summary> Stages, IReadOnlyList<Ratio> Ratios) Measure(DataLoaderFactory factory, LoaderConfig config,
        int classNum, long seed, int batches, int maxWorkers, int rounds, Action<string> notice)
    {
        // An untimed first round: .NET's tiered JIT recompiles the hot paths in the background
        // during the first seconds, which took CPU from the measured threads (loader2/loader1
        // 1.41 with it, 1.80 with DOTNET_TieredCompilation=0 on the same machine).
        Run(factory, config, classNum, seed, batches, maxWorkers, notice).ToList();
        var byRound = Enumerable.Range(0, rounds).Select(_ => Run(factory, config, classNum, seed, batches, maxWorkers, notice).ToList()).ToList();
        var stages = byRound[0].Select((first, k) =>
        {
            var ordered = byRound.Select(r => r[k]).OrderBy(m => m.ImagesPerSecond).ToList();
            return new Summary(ordered[ordered.Count / 2], rounds);
        }).ToList();
        double MedianRatio(int k, int baseK)
        {
            var values = byRound.Select(r => r[k].ImagesPerSecond / r[baseK].ImagesPerSecond).Order().ToList();
            return values[values.Count / 2];
        }
        var first = byRound[0];
        int Find(string stage, int workers) => first.FindIndex(m => m.Stage == stage && m.Workers == workers);
        Ratio Of(string phase, int k, int baseK) =>
            new(phase, MedianRatio(k, baseK), stages[k].Median.ImagesPerSecond, first[k].ImageSize, first[k].BatchSize);
        var ratios = new List<Ratio> { Of("chain/decode", Find("chain", 1), Find("decode", 1)) };
        for (int w = 2; w <= maxWorkers; w++)
        {
            ratios.Add(Of($"decode{w}/decode1", Find("decode", w), Find("decode", 1)));
            ratios.Add(Of($"loader{w}/loader1", Find("loader", w), Find("loader", 1)));
        }
        return (stages, ratios);
    }

    /// <summary>
    /// Where the chain's time goes: microseconds per image of reading the file, each op in
    /// order, and writing into the batch (the fused NormalizeImage and CHW layout), on one
    /// thread over the first images. One line per step, phase `op:NAME`.
    /// </summary>
    public static IReadOnlyList<BenchmarkLine> ProfileOps(DataLoaderFactory factory, LoaderConfig config, int classNum, long seed, int batches, string model, Action<string> notice)
    {
        using var serial = factory.BuildLoader(config with { NumWorkers = 0 }, classNum, seed, notice);
        var pipeline = serial.Pipeline;
        int images = Math.Min(serial.SampleCount, batches * config.Sampler.BatchSize);
        var names = new List<string> { "read" };
        names.AddRange(pipeline.Ops.Select(op => op.Name));
        names.Add("write");
        var ticks = new long[names.Count];
        float[] scratch = [];
        int size = 0;
        var clock = new Stopwatch();
        for (int pass = 0; pass < 2; pass++) // the first pass warms the codecs and the page cache
            for (int i = 0; i < images; i++)
            {
                var rng = new Random(i);
                clock.Restart();
                var sample = new ImageSample(serial.Dataset.Read(i), serial.Dataset.Describe(i));
                long last = clock.ElapsedTicks;
                if (pass == 1) ticks[0] += last;
                using (sample)
                {
                    for (int k = 0; k < pipeline.Ops.Count; k++)
                    {
                        pipeline.Ops[k].Apply(sample, rng);
                        long now = clock.ElapsedTicks;
                        if (pass == 1) ticks[k + 1] += now - last;
                        last = now;
                    }
                    var (c, h, w) = SamplePipeline.Shape(sample.Image!);
                    size = h;
                    if (scratch.Length != c * h * w) scratch = new float[c * h * w];
                    pipeline.WriteChw(sample.Image!, scratch, sample.Source);
                    if (pass == 1) ticks[^1] += clock.ElapsedTicks - last;
                }
            }
        return [.. names.Select((name, k) =>
        {
            double micros = ticks[k] * 1e6 / Stopwatch.Frequency / images;
            return new BenchmarkLine(model, "op:" + name, size, config.Sampler.BatchSize, get_num_threads()) { SamplesPerSecond = 1e6 / micros }
                .With("us_per_image", Math.Round(micros, 1));
        })];
    }

    /// <summary>One round: decode on 1..<paramref name="maxWorkers"/> threads, the chain, then the loader with 1..k workers.</summary>
    public static IEnumerable<Measurement> Run(DataLoaderFactory factory, LoaderConfig config, int classNum, long seed, int batches, int maxWorkers, Action<string> notice)
    {
        using var serial = factory.BuildLoader(config with { NumWorkers = 0 }, classNum, seed, notice);
        int images = Math.Min(serial.SampleCount, batches * config.Sampler.BatchSize);
        var dataset = serial.Dataset;

        // Warm-up: the first batch loads the codecs and libtorch outside the timings.
        int size = 0, perBatch = config.Sampler.BatchSize;
        foreach (var batch in serial.Epoch(0))
        {
            size = (int)batch.Images.shape[2];
            batch.Dispose();
            break;
        }

        // Every stage works on the first images in list order (the loaders' untimed warm-up
        // batches too), read once here so that all of them read from the page cache.
        int warmUpImages = (maxWorkers * (DataLoader.Prefetch + 1) + 1) * perBatch;
        for (int i = 0; i < Math.Min(serial.SampleCount, images + warmUpImages); i++) dataset.Read(i);
        // Decoding on 1..k threads at once, each its share of the images: how far this machine
        // scales the same work over threads with nothing shared, the ceiling for loaderK/loader1.
        // Decode and chain go over a small set several times, as the loaders do.
        int decodes = batches * perBatch;
        for (int threads = 1; threads <= maxWorkers; threads++)
        {
            var (wall, cpu) = DecodeSeconds(dataset, decodes, threads);
            yield return new Measurement("decode", threads, decodes, wall, cpu, size, perBatch);
        }

        var clock = new StageClock();
        int[][] plan = [.. Enumerable.Range(0, (decodes + perBatch - 1) / perBatch)
            .Select(b => Enumerable.Range(b * perBatch, Math.Min(perBatch, decodes - b * perBatch)).Select(i => i % dataset.Count).ToArray())];
        serial.Assemble(plan[0], 1, 0).Batch?.Dispose(); // steady state: the batch buffer is in the heap
        clock.Restart();
        int done = 0;
        for (int b = 0; b < plan.Length; b++)
        {
            var assembled = serial.Assemble(plan[b], 1, b);
            done += assembled.Batch?.Count ?? 0;
            assembled.Batch?.Dispose();
        }
        var (chainWall, chainCpu) = clock.Elapsed();
        yield return new Measurement("chain", 1, done, chainWall, chainCpu, size, perBatch);

        // Each loader's pipeline fill (thread start, its staging buffers' first use: the batches
        // in flight at once) is left out of its timing.
        for (int workers = 1; workers <= maxWorkers; workers++)
        {
            using var loader = factory.BuildLoader(config with { NumWorkers = workers, Sampler = config.Sampler with { Shuffle = false } }, classNum, seed, notice);
            int warmUp = workers * (DataLoader.Prefetch + 1) + 1, count = 0, seen = 0;
            // A small data set is read over several epochs.
            for (int epoch = 1; seen < warmUp + batches; epoch++)
                foreach (var batch in loader.Epoch(epoch, next: epoch + 1)) // as training reads them
                {
                    if (++seen == warmUp) clock.Restart();
                    else if (seen > warmUp) count += batch.Count;
                    batch.Dispose();
                    if (seen >= warmUp + batches) break;
                }
            var (wall, cpu) = clock.Elapsed();
            yield return new Measurement("loader", workers, count, wall, cpu, size, perBatch);
        }
    }

    /// <summary>Wall and CPU seconds to read and decode <paramref name="images"/> images (the list over again if short) on <paramref name="threads"/> threads.</summary>
    static (double Wall, double Cpu) DecodeSeconds(IDataset dataset, int images, int threads)
    {
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (int i = t; i < images; i += threads)
                using (Cv2.ImDecode(dataset.Read(i % dataset.Count), ImreadModes.Color)) { }
        })).ToList();
        var clock = new StageClock();
        clock.Restart();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        return clock.Elapsed();
    }
}
