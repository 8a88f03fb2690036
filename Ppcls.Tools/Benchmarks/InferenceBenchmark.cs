using System.Diagnostics;
using System.Text.Json;
using Ppcls.Inference;
using Ppcls.Core.Onnx;
using Ppcls.Models;
using static TorchSharp.torch;

namespace Ppcls.Tools.Benchmarks;

/// <summary>One inference timing: a model in one form (phase) at one input size and batch.</summary>
public sealed record InferenceTiming(string Model, string Phase, int Size, int Batch, int Threads, double MedianMs)
{
    public double SamplesPerSecond => Batch * 1000.0 / MedianMs;

    public string ToJson() => JsonSerializer.Serialize(new
    {
        model = Model,
        phase = Phase,
        size = Size,
        batch = Batch,
        threads = Threads,
        median_ms = Math.Round(MedianMs, 3),
        samples_per_s = Math.Round(SamplesPerSecond, 2),
    });
}

/// <summary>
/// Inference latency of one model in three forms, measured in one process on the same random
/// input: TorchSharp eager as trained (unfused), TorchSharp after <see cref="ModelFusion.Fuse"/>
/// (rep branches merged, BN folded), and ONNX Runtime on the exported file. Each figure is the
/// median of many forward passes after warm-up; ONNX Runtime uses as many threads as libtorch.
/// </summary>
public static class InferenceBenchmark
{
    public const string Eager = "torchsharp_eager";
    public const string Fused = "torchsharp_fused";
    public const string OnnxRuntime = "onnxruntime";

    public static IEnumerable<InferenceTiming> Run(string modelName, nn.Module<Tensor, Tensor> model, int classNum, int size,
        IReadOnlyList<int> batches, int warmup, int runs, double minSeconds)
    {
        int threads = get_num_threads();
        model.eval();
        var inputs = batches.ToDictionary(b => b, b => randn([b, 3, size, size], generator: new Generator((ulong)b)));
        foreach (var b in batches)
            yield return new(modelName, Eager, size, b, threads, Median(() => Forward(model, inputs[b]), warmup, runs, minSeconds));

        ModelFusion.Fuse(model);
        foreach (var b in batches)
            yield return new(modelName, Fused, size, b, threads, Median(() => Forward(model, inputs[b]), warmup, runs, minSeconds));

        string path = Path.Combine(Path.GetTempPath(), $"ppcls-bench-{Environment.ProcessId}-{modelName}.onnx");
        try
        {
            OnnxClassifierExport.Save(OnnxClassifierExport.Build(model, modelName, 3, size, size, classNum), path);
            using var session = new OnnxClassifier(path, threads);
            foreach (var b in batches)
            {
                var data = inputs[b].data<float>().ToArray();
                long[] shape = [b, 3, size, size];
                yield return new(modelName, OnnxRuntime, size, b, threads, Median(() => session.Run(data, shape), warmup, runs, minSeconds));
            }
        }
        finally
        {
            File.Delete(path);
            foreach (var input in inputs.Values) input.Dispose();
        }
    }

    static void Forward(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        model.call(input);
    }

    /// <summary>
    /// Milliseconds per call: the median of at least <paramref name="runs"/> timed calls (and at least
    /// <paramref name="minSeconds"/>), after <paramref name="warmup"/> untimed ones and at least half a second of them.
    /// </summary>
    static double Median(Action call, int warmup, int runs, double minSeconds)
    {
        var warming = Stopwatch.StartNew();
        for (int i = 0; i < warmup || warming.Elapsed.TotalSeconds < 0.5; i++) call();
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < runs || total.Elapsed.TotalSeconds < minSeconds)
        {
            var clock = Stopwatch.StartNew();
            call();
            samples.Add(clock.Elapsed.TotalMilliseconds);
        }
        samples.Sort();
        return samples.Count % 2 == 1 ? samples[samples.Count / 2] : (samples[samples.Count / 2 - 1] + samples[samples.Count / 2]) / 2;
    }

    /// <summary>The ratio lines: how much faster each form is than another at the same size and batch.</summary>
    public static IEnumerable<string> Ratios(IReadOnlyList<InferenceTiming> timings)
    {
        foreach (var group in timings.GroupBy(t => (t.Model, t.Size, t.Batch)))
        {
            var byPhase = group.ToDictionary(t => t.Phase);
            foreach (var (faster, slower) in new[] { (Fused, Eager), (OnnxRuntime, Eager), (OnnxRuntime, Fused) })
                if (byPhase.TryGetValue(faster, out var f) && byPhase.TryGetValue(slower, out var s))
                    yield return JsonSerializer.Serialize(new
                    {
                        model = group.Key.Model,
                        size = group.Key.Size,
                        batch = group.Key.Batch,
                        ratio = $"{faster}/{slower}",
                        speedup = Math.Round(s.MedianMs / f.MedianMs, 3),
                    });
        }
    }
}
