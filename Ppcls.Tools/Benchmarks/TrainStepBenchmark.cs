using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Engine;
using Ppcls.Core.Tensors;
using Ppcls.Core.Logging;
using Ppcls.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Tools.Benchmarks;

/// <summary>What one train-step benchmark process measured.</summary>
public sealed record TrainStepResult(string Model, int ImageSize, int BatchSize, int Threads,
    double MedianMs, double MeanMs, long PeakResidentBytes, string MallocState, string DType = "float32")
{
    public double SamplesPerSecond => BatchSize * 1000.0 / MeanMs;

    /// <summary>The shared benchmark line (phase `step`, or what <paramref name="phase"/> names).</summary>
    public BenchmarkLine ToLine(string phase = "step") =>
        new BenchmarkLine(Model, phase, ImageSize, BatchSize, Threads) { SamplesPerSecond = SamplesPerSecond, MedianMs = MedianMs }
            .With("mean_ms", MeanMs).With("peak_rss_bytes", PeakResidentBytes).With("malloc", MallocState).With("dtype", DType);

    /// <summary>Reads back a line written by <see cref="ToLine"/>; null for any other line.</summary>
    public static TrainStepResult? Parse(string line)
    {
        if (!line.StartsWith('{')) return null;
        try
        {
            using var json = JsonDocument.Parse(line);
            var r = json.RootElement;
            return new TrainStepResult(r.GetProperty("model").GetString()!, r.GetProperty("size").GetInt32(),
                r.GetProperty("batch").GetInt32(), r.GetProperty("threads").GetInt32(), r.GetProperty("median_ms").GetDouble(),
                r.GetProperty("mean_ms").GetDouble(), r.GetProperty("peak_rss_bytes").GetInt64(), r.GetProperty("malloc").GetString()!,
                r.GetProperty("dtype").GetString()!);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// Times forward + cross-entropy + backward + SGD steps of a zoo model on random data
/// (no data loading), each step in its own dispose scope as the engine runs them.
/// </summary>
public static class TrainStepBenchmark
{
    /// <param name="bfloat16">Weights and images in bfloat16 (no float32 master weights): how fast this CPU's bf16 kernels train, not a recipe.</param>
    public static TrainStepResult Run(string modelName, int batchSize, int imageSize, int steps, MemoryFormat format, bool bfloat16 = false, int classNum = 1000)
    {
        var model = BuildModel(modelName, format, classNum);
        if (bfloat16) model.to(ScalarType.BFloat16);
        model.train();
        using var optimizer = optim.SGD(model.parameters(), learningRate: 0.01, momentum: 0.9);
        var generator = new Generator(0);
        var images = new Placement(CPU, format).Images(randn([batchSize, 3, imageSize, imageSize], generator: generator));
        if (bfloat16) images = images.to(ScalarType.BFloat16);
        var labels = randint(classNum, [batchSize], generator: generator);

        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(images), labels);
            loss.backward();
            optimizer.step();
        }

        Step(); // warm-up: first-touch allocations and kernel selection
        var times = new double[steps];
        var clock = new Stopwatch();
        for (int i = 0; i < steps; i++)
        {
            clock.Restart();
            Step();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        return new TrainStepResult(modelName, imageSize, batchSize, get_num_threads(), BenchmarkLine.Median(times), times.Average(),
            Ppcls.Core.Native.ProcessMemory.PeakResidentBytes(), Ppcls.Core.Native.MallocTuning.State, bfloat16 ? "bfloat16" : "float32");
    }

    /// <summary>A zoo model with PaddleClas's defaults and <paramref name="classNum"/> classes, its weights in <paramref name="format"/>.</summary>
    public static nn.Module<Tensor, Tensor> BuildModel(string modelName, MemoryFormat format, int classNum = 1000)
    {
        var options = new ConfigMap();
        options["class_num"] = new ConfigScalar(classNum.ToString(CultureInfo.InvariantCulture));
        var model = ModelZoo.CreateRegistry().Get(modelName, "--model").Create(new ConfigSection(options, "Arch"));
        return new Placement(CPU, format).Model(model);
    }
}
