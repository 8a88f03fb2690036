using Ppcls.Core.Logging;

namespace Ppcls.Core.Tests.Engine;

[NonParallelizable]
public sealed class PpclsLogTests
{
    [Test]
    public void A_console_redirect_gets_each_line_marked_as_step_or_not_and_the_file_keeps_both_unchanged()
    {
        string dir = Directory.CreateTempSubdirectory("ppcls-log-test-").FullName;
        var seen = new List<(string Line, bool Step)>();
        try
        {
            PpclsLog.AddFile(Path.Combine(dir, "train.log"));
            PpclsLog.ConsoleRedirect = (line, step) => seen.Add((line, step));
            PpclsLog.Info("[Train][Epoch 1/2][Avg]loss: 1.00000");
            PpclsLog.Step("[Train][Epoch 1/2][Iter: 0/4]lr(Cosine): 0.10000000");
        }
        finally
        {
            PpclsLog.ConsoleRedirect = null;
            PpclsLog.Close();
        }

        const string Prefix = @"^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\] ppcls INFO: ";
        Assert.That(seen.Select(s => s.Step), Is.EqualTo(new[] { false, true }));
        Assert.That(seen[0].Line, Does.Match(Prefix + @"\[Train\]\[Epoch 1/2\]\[Avg\]loss: 1\.00000$"));
        Assert.That(seen[1].Line, Does.Match(Prefix + @"\[Train\]\[Epoch 1/2\]\[Iter: 0/4\]lr\(Cosine\): 0\.10000000$"));
        string[] file = File.ReadAllLines(Path.Combine(dir, "train.log"));
        Assert.That(file, Is.EqualTo(seen.Select(s => s.Line)), "the file has the same lines, step lines included");
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void Benchmark_lines_start_with_the_shared_fields_in_order()
    {
        var line = new BenchmarkLine("PPLCNet_x0_25", "synthetic", 64, 32, 2) { SamplesPerSecond = 1234.5678, MedianMs = 25.91234 }
            .With("steps", 20).With("source", "real").With("share", 0.012345678);

        Assert.That(line.ToJson(), Is.EqualTo(
            "{\"model\":\"PPLCNet_x0_25\",\"phase\":\"synthetic\",\"size\":64,\"batch\":32,\"threads\":2," +
            "\"samples_per_s\":1234.57,\"median_ms\":25.912,\"steps\":20,\"source\":\"real\",\"share\":0.0123}"));
        Assert.That(BenchmarkLine.Median([3.0, 1.0, 2.0]), Is.EqualTo(2.0));
        Assert.That(BenchmarkLine.Median([4.0, 1.0, 2.0, 3.0]), Is.EqualTo(2.5));
    }
}
