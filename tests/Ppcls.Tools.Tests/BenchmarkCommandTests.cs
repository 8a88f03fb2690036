using System.Text.Json;

namespace Ppcls.Tools.Tests;

/// <summary>Every `ppcls benchmark` command prints JSON lines with the shared fields; `benchmark train` runs the real Trainer.</summary>
[NonParallelizable]
public sealed class BenchmarkCommandTests
{
    DemoData _demo = null!;

    [OneTimeSetUp]
    public void MakeData() => _demo = new DemoData();

    [OneTimeTearDown]
    public void RemoveData() => _demo.Dispose();

    static readonly string[] Common = ["model", "phase", "size", "batch", "threads"];

    /// <summary>Every stdout line is a JSON object with the common fields and at least one positive rate or time.</summary>
    static List<JsonElement> Lines(CliRun run)
    {
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var lines = run.Output.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.That(lines, Is.Not.Empty);
        foreach (var line in lines)
        {
            var names = line.EnumerateObject().Select(p => p.Name).ToList();
            Assert.That(names.Take(Common.Length), Is.EqualTo(Common), line.ToString());
            Assert.That(line.GetProperty("model").GetString(), Is.Not.Empty);
            Assert.That(new[] { "size", "batch", "threads" }.Select(k => line.GetProperty(k).GetInt32()), Has.All.GreaterThan(0), line.ToString());
            var rates = new[] { "samples_per_s", "median_ms" }.Where(names.Contains).Select(k => line.GetProperty(k).GetDouble()).ToList();
            Assert.That(rates, Is.Not.Empty.And.All.GreaterThan(0.0), line.ToString());
        }
        return lines;
    }

    static string Phase(JsonElement line) => line.GetProperty("phase").GetString()!;

    [Test]
    public void Benchmark_train_times_the_trainer_on_synthetic_and_real_batches_with_their_ratio_and_overhead()
    {
        string output = _demo.NewOutput();

        var run = CliRun.Of(["benchmark", "train", .. _demo.Overrides(output, epochs: 2), "--iters", "3", "--warmup", "1"]);

        var lines = Lines(run);
        Assert.That(lines.Select(Phase), Is.EqualTo(new[] { "synthetic", "real", "real/synthetic", "overhead", "overhead" }));
        Assert.That(lines.Select(l => (l.GetProperty("model").GetString(), l.GetProperty("size").GetInt32(), l.GetProperty("batch").GetInt32())),
            Has.All.EqualTo(("PPLCNet_x0_25", 32, 8)));
        foreach (var step in lines.Take(2))
        {
            Assert.That(step.GetProperty("steps").GetInt32(), Is.EqualTo(3));
            Assert.That(new[] { "forward_ms", "backward_ms", "optimizer_ms" }.Select(k => step.GetProperty(k).GetDouble()), Has.All.GreaterThan(0.0));
            Assert.That(new[] { "reader_ms", "overhead_ms" }.Select(k => step.GetProperty(k).GetDouble()), Has.All.GreaterThanOrEqualTo(0.0));
        }
        // Invariants of the printed figures only: which source is faster depends on the machine's load.
        double ratio = lines[2].GetProperty("ratio").GetDouble();
        Assert.That(ratio, Is.EqualTo(lines[1].GetProperty("samples_per_s").GetDouble() / lines[0].GetProperty("samples_per_s").GetDouble()).Within(0.01 * ratio + 1e-3));
        double medianRatio = lines[2].GetProperty("median_ratio").GetDouble();
        Assert.That(medianRatio, Is.EqualTo(lines[0].GetProperty("median_ms").GetDouble() / lines[1].GetProperty("median_ms").GetDouble()).Within(0.01 * medianRatio + 1e-3));
        Assert.That((lines[2].GetProperty("samples_per_s").GetDouble(), lines[2].GetProperty("median_ms").GetDouble()),
            Is.EqualTo((lines[1].GetProperty("samples_per_s").GetDouble(), lines[1].GetProperty("median_ms").GetDouble())), "the ratio line repeats its numerator's figures");
        Assert.That(lines.Skip(3).Select(l => l.GetProperty("source").GetString()), Is.EqualTo(new[] { "synthetic", "real" }));
        for (int i = 0; i < 2; i++)
        {
            var (step, overhead) = (lines[i], lines[3 + i]);
            // The overhead is a part of each step, so its median and share cannot exceed the step's
            // (JSON rounds medians to 3 decimals and other figures to 4: compare within 1e-3).
            Assert.That(overhead.GetProperty("share").GetDouble(), Is.InRange(0.0, 1.0));
            Assert.That(overhead.GetProperty("median_ms").GetDouble(), Is.EqualTo(step.GetProperty("overhead_ms").GetDouble()).Within(1e-3));
            Assert.That(overhead.GetProperty("step_median_ms").GetDouble(), Is.EqualTo(step.GetProperty("median_ms").GetDouble()).Within(1e-3));
            Assert.That(overhead.GetProperty("median_ms").GetDouble(), Is.LessThanOrEqualTo(overhead.GetProperty("step_median_ms").GetDouble() + 1e-3));
            Assert.That(overhead.GetProperty("compute_median_ms").GetDouble(), Is.GreaterThan(0.0).And.LessThanOrEqualTo(overhead.GetProperty("step_median_ms").GetDouble() + 1e-3));
        }
        Assert.That(run.Error, Does.Contain("ppcls INFO: train: 32 images, 4 iterations per epoch"), "log lines go to standard error");
        Assert.That(run.Error, Does.Not.Contain("[Iter:"), "per-iteration lines are left out");
        Assert.That(Directory.EnumerateFileSystemEntries(output), Is.Empty, "no checkpoint or log file");
    }

    [Test]
    public void Benchmark_train_rejects_zero_iterations_in_one_line()
    {
        var run = CliRun.Of(["benchmark", "train", .. _demo.Overrides(_demo.NewOutput(), epochs: 1), "--iters", "0"]);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error.TrimEnd(), Does.EndWith("error: --iters must be at least 1, got 0"));
    }

    [Test]
    public void Benchmark_step_prints_one_shared_line()
    {
        var run = CliRun.Of("benchmark", "step", "--model", "PPLCNet_x0_25", "--batch-size", "2", "--image-size", "32", "--steps", "2");

        var lines = Lines(run);
        Assert.That(lines.Select(Phase), Is.EqualTo(new[] { "step" }));
        Assert.That((lines[0].GetProperty("size").GetInt32(), lines[0].GetProperty("batch").GetInt32()), Is.EqualTo((32, 2)));
        Assert.That(Ppcls.Tools.Benchmarks.TrainStepResult.Parse(run.Output.Trim())?.BatchSize, Is.EqualTo(2), "benchmark malloc reads it back");
    }

    [Test]
    public void Benchmark_step_in_bfloat16_says_so_and_reads_back()
    {
        var run = CliRun.Of("benchmark", "step", "--model", "PPLCNet_x0_25", "--batch-size", "2", "--image-size", "32", "--steps", "1", "--bfloat16");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(Lines(run).Single().GetProperty("dtype").GetString(), Is.EqualTo("bfloat16"));
        Assert.That(Ppcls.Tools.Benchmarks.TrainStepResult.Parse(run.Output.Trim())?.DType, Is.EqualTo("bfloat16"));
    }

    [Test]
    public void Benchmark_data_prints_shared_lines_per_stage()
    {
        var run = CliRun.Of(["benchmark", "data", .. _demo.Overrides(_demo.NewOutput(), epochs: 1), "--batches", "2", "--max-workers", "2", "--rounds", "2"]);

        var lines = Lines(run);
        Assert.That(lines.Select(Phase), Is.EqualTo(new[]
        {
            "decode", "decode", "chain", "loader", "loader", "chain/decode", "decode2/decode1", "loader2/loader1",
            "op:read", "op:DecodeImage", "op:RandCropImage", "op:RandFlipImage", "op:write",
        }));
        Assert.That(lines.Skip(8).Select(l => l.GetProperty("us_per_image").GetDouble()), Has.All.GreaterThan(0));
        Assert.That(lines.Take(5).Select(l => l.GetProperty("rounds").GetInt32()), Has.All.EqualTo(2));
        Assert.That(lines.Take(5).Select(l => l.GetProperty("cores_busy").GetDouble()), Has.All.GreaterThan(0));
        Assert.That(lines.Skip(5).Take(3).Select(l => l.GetProperty("ratio").GetDouble()), Has.All.GreaterThan(0));
        Assert.That(lines.Skip(5).Take(3).Select(l => l.GetProperty("samples_per_s").GetDouble()),
            Is.EqualTo(new[] { 2, 1, 4 }.Select(i => lines[i].GetProperty("samples_per_s").GetDouble())), "a ratio line repeats its numerator stage's median (chain, decode 2, loader 2)");
        Assert.That(lines.Select(l => (l.GetProperty("size").GetInt32(), l.GetProperty("batch").GetInt32())), Has.All.EqualTo((32, 8)));
    }
}
