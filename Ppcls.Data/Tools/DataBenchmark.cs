using System.Diagnostics;
using OpenCvSharp;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Logging;
using Ppcls.Data.Imaging;
using Ppcls.Data.Loading;
using static TorchSharp.torch;

namespace Ppcls.Data.Tools;

/// <summary>
/// `ppcls benchmark data`: images/s of one loader config, measured in one run: read + decode
/// only (`decode`), the full chain into batch tensors on one thread (`chain`), and the loader
/// with 1..k workers (`loader`), all on the same images. The stages run in interleaved rounds
/// (decode, chain, loaders; again ...) so that a change in machine load touches every stage;
/// each stage reports its median over the rounds, and the ratios (chain/decode,
/// loader k/loader 1) are medians of the per-round ratios. Each result prints as a
/// <see cref="BenchmarkLine"/> (phase = stage, samples_per_s = images/s). <see cref="ProfileOps"/>
/// splits the chain's time by op.
/// </summary>
public static class DataBenchmark
{
    /// <param name="Stage">decode, chain or loader.</param>
    /// <param name="ImageSize">Height of the loader's output images.</param>
    /// <param name="BatchSize">The sampler's batch size.</param>
    public sealed record Measurement(string Stage, int Workers, int Images, double Seconds, int ImageSize, int BatchSize)
    {
        public double ImagesPerSecond => Images / Seconds;

        /// <summary>The shared benchmark line; <paramref name="model"/> is the config's Arch.name.</summary>
        public BenchmarkLine ToLine(string model) =>
            new BenchmarkLine(model, Stage, ImageSize, BatchSize, get_num_threads()) { SamplesPerSecond = ImagesPerSecond }
                .With("workers", Workers).With("images", Images).With("seconds", Seconds);
    }

    /// <summary>A stage's median over the rounds (its seconds are those of the median round).</summary>
    public sealed record Summary(Measurement Median, int Rounds)
    {
        public BenchmarkLine ToLine(string model) => Median.ToLine(model).With("rounds", Rounds);
    }

    /// <summary>
    /// The median over rounds of <paramref name="Stage"/>'s images/s divided by <paramref name="Base"/>'s;
    /// the line repeats the stage's median images/s, as every ratio line does.
    /// </summary>
    public sealed record Ratio(string Stage, int Workers, string Base, int BaseWorkers, double Value, double StageImagesPerSecond, int ImageSize, int BatchSize)
    {
        public string Phase => $"{Label(Stage, Workers)}/{Label(Base, BaseWorkers)}";

        public BenchmarkLine ToLine(string model) =>
            new BenchmarkLine(model, Phase, ImageSize, BatchSize, get_num_threads()) { SamplesPerSecond = StageImagesPerSecond }
                .With("ratio", Math.Round(Value, 3));

        static string Label(string stage, int workers) => stage == "loader" ? $"loader{workers}" : stage;
    }

    /// <summary>Runs <paramref name="rounds"/> interleaved rounds; returns each stage's median and the ratios.</summary>
    public static (IReadOnlyList<Summary> Stages, IReadOnlyList<Ratio> Ratios) Measure(DataLoaderFactory factory, LoaderConfig config,
        int classNum, long seed, int batches, int maxWorkers, int rounds, Action<string> notice)
    {
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
        var ratios = new List<Ratio> { new("chain", 1, "decode", 1, MedianRatio(1, 0), stages[1].Median.ImagesPerSecond, first[0].ImageSize, first[0].BatchSize) };
        for (int k = 3; k < first.Count; k++)
            ratios.Add(new("loader", first[k].Workers, "loader", 1, MedianRatio(k, 2), stages[k].Median.ImagesPerSecond, first[k].ImageSize, first[k].BatchSize));
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

    /// <summary>One round: decode, chain, then the loader with 1..<paramref name="maxWorkers"/> workers.</summary>
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
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < images; i++)
            using (Cv2.ImDecode(dataset.Read(i), ImreadModes.Color)) { }
        yield return new Measurement("decode", 1, images, clock.Elapsed.TotalSeconds, size, perBatch);

        int[][] plan = [.. Enumerable.Range(0, (images + perBatch - 1) / perBatch)
            .Select(b => Enumerable.Range(b * perBatch, Math.Min(perBatch, images - b * perBatch)).ToArray())];
        serial.Assemble(plan[0], 1, 0).Batch?.Dispose(); // steady state: the batch buffer is in the heap
        clock.Restart();
        int done = 0;
        for (int b = 0; b < plan.Length; b++)
        {
            var assembled = serial.Assemble(plan[b], 1, b);
            done += assembled.Batch?.Count ?? 0;
            assembled.Batch?.Dispose();
        }
        yield return new Measurement("chain", 1, done, clock.Elapsed.TotalSeconds, size, perBatch);

        // Each loader's pipeline fill (thread start, its staging buffers' first use: the batches
        // in flight at once) is left out of its timing.
        for (int workers = 1; workers <= maxWorkers; workers++)
        {
            using var loader = factory.BuildLoader(config with { NumWorkers = workers, Sampler = config.Sampler with { Shuffle = false } }, classNum, seed, notice);
            int warmUp = workers * (DataLoader.Prefetch + 1) + 1, count = 0, seen = 0;
            // A small data set is read over several epochs.
            for (int epoch = 1; seen < warmUp + batches; epoch++)
                foreach (var batch in loader.Epoch(epoch))
                {
                    if (++seen == warmUp) clock.Restart();
                    else if (seen > warmUp) count += batch.Count;
                    batch.Dispose();
                    if (seen >= warmUp + batches) break;
                }
            yield return new Measurement("loader", workers, count, clock.Elapsed.TotalSeconds, size, perBatch);
        }
    }
}
