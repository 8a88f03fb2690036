using System.Diagnostics;
using OpenCvSharp;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Logging;
using Ppcls.Data.Loading;
using static TorchSharp.torch;

namespace Ppcls.Data.Tools;

/// <summary>
/// `ppcls benchmark data`: images/s of one loader config, measured in one run: read + decode
/// only (`decode`), the full chain into batch tensors on one thread (`chain`), and the loader
/// with 1..k workers (`loader`). Each measurement prints as a <see cref="BenchmarkLine"/>
/// (phase = stage, samples_per_s = images/s).
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

        // Every stage works on the first images in list order (the loaders' untimed first batch
        // too), read once here so that all of them read from the page cache.
        for (int i = 0; i < Math.Min(serial.SampleCount, images + perBatch); i++) dataset.Read(i);
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

        // Each loader's first batch (thread start, pipeline fill) is left out of its timing.
        for (int workers = 1; workers <= maxWorkers; workers++)
        {
            using var loader = factory.BuildLoader(config with { NumWorkers = workers, Sampler = config.Sampler with { Shuffle = false } }, classNum, seed, notice);
            int count = 0, seen = 0;
            foreach (var batch in loader.Epoch(1))
            {
                if (seen++ == 0) clock.Restart();
                else count += batch.Count;
                batch.Dispose();
                if (seen > batches) break;
            }
            yield return new Measurement("loader", workers, count, clock.Elapsed.TotalSeconds, size, perBatch);
        }
    }
}
