using System.Diagnostics;
using System.Text.Json;
using OpenCvSharp;
using Ppcls.Core.Config.Sections;
using Ppcls.Data.Loading;

namespace Ppcls.Data.Tools;

/// <summary>
/// `ppcls benchmark data`: images/s of one loader config, measured in one run: read + decode
/// only (`decode`), the full chain into batch tensors on one thread (`chain`), and the loader
/// with 1..k workers (`loader`).
/// </summary>
public static class DataBenchmark
{
    public sealed record Measurement(string Stage, int Workers, int Images, double Seconds)
    {
        public double ImagesPerSecond => Images / Seconds;

        public string ToJson() => JsonSerializer.Serialize(new
        {
            stage = Stage,
            workers = Workers,
            images = Images,
            seconds = Math.Round(Seconds, 4),
            images_per_s = Math.Round(ImagesPerSecond, 1),
        });
    }

    public static IEnumerable<Measurement> Run(DataLoaderFactory factory, LoaderConfig config, int classNum, long seed, int batches, int maxWorkers, Action<string> notice)
    {
        using var serial = factory.BuildLoader(config with { NumWorkers = 0 }, classNum, seed, notice);
        int images = Math.Min(serial.SampleCount, batches * config.Sampler.BatchSize);
        var dataset = serial.Dataset;

        // Warm-up: the first batch loads the codecs and libtorch outside the timings.
        foreach (var batch in serial.Epoch(0))
        {
            batch.Dispose();
            break;
        }

        var clock = Stopwatch.StartNew();
        for (int i = 0; i < images; i++)
            using (Cv2.ImDecode(dataset.Read(i), ImreadModes.Color)) { }
        yield return new Measurement("decode", 1, images, clock.Elapsed.TotalSeconds);

        int perBatch = config.Sampler.BatchSize;
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
        yield return new Measurement("chain", 1, done, clock.Elapsed.TotalSeconds);

        // Each loader's first batch (thread start, pipeline fill) is left out of its timing.
        for (int workers = 1; workers <= maxWorkers; workers++)
        {
            using var loader = factory.BuildLoader(config with { NumWorkers = workers }, classNum, seed, notice);
            int count = 0, seen = 0;
            foreach (var batch in loader.Epoch(1))
            {
                if (seen++ == 0) clock.Restart();
                else count += batch.Count;
                batch.Dispose();
                if (seen > batches) break;
            }
            yield return new Measurement("loader", workers, count, clock.Elapsed.TotalSeconds);
        }
    }
}
