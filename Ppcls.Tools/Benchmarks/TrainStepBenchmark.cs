using System.Diagnostics;
using System.Globalization;
using Ppcls.Core.Config;
using Ppcls.Models;
using static TorchSharp.torch;

namespace Ppcls.Tools.Benchmarks;

/// <summary>What one train-step benchmark process measured.</summary>
public sealed record TrainStepResult(double MillisecondsPerStep, long PeakResidentBytes, string MallocState)
{
    public string ToLine() => string.Create(CultureInfo.InvariantCulture,
        $"step_ms={MillisecondsPerStep:F1} peak_rss_bytes={PeakResidentBytes} malloc=\"{MallocState}\"");

    public static TrainStepResult? Parse(string line)
    {
        var parts = line.Split(' ', 3);
        if (parts.Length != 3 || !parts[0].StartsWith("step_ms=") || !parts[1].StartsWith("peak_rss_bytes=")) return null;
        return new TrainStepResult(
            double.Parse(parts[0]["step_ms=".Length..], CultureInfo.InvariantCulture),
            long.Parse(parts[1]["peak_rss_bytes=".Length..], CultureInfo.InvariantCulture),
            parts[2]["malloc=\"".Length..^1]);
    }
}

/// <summary>
/// Times forward + cross-entropy + backward + SGD steps of a zoo model on random data
/// (no data loading), each step in its own dispose scope as the engine runs them.
/// </summary>
public static class TrainStepBenchmark
{
    public static TrainStepResult Run(string modelName, int batchSize, int imageSize, int steps, int classNum = 1000)
    {
        var options = new ConfigMap();
        options["class_num"] = new ConfigScalar(classNum.ToString(CultureInfo.InvariantCulture));
        var model = ModelZoo.CreateRegistry().Get(modelName, "--model").Create(new ConfigSection(options, "Arch"));
        model.train();
        using var optimizer = optim.SGD(model.parameters(), learningRate: 0.01, momentum: 0.9);
        var generator = new Generator(0);
        var images = randn([batchSize, 3, imageSize, imageSize], generator: generator);
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
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) Step();
        clock.Stop();
        return new TrainStepResult(clock.Elapsed.TotalMilliseconds / steps, Ppcls.Core.Native.ProcessMemory.PeakResidentBytes(), Ppcls.Core.Native.MallocTuning.State);
    }
}
