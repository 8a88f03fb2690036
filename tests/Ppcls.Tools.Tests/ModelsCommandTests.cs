using System.Text.Json;

namespace Ppcls.Tools.Tests;

public sealed class ModelsCommandTests
{
    [Test]
    public void List_prints_every_family_and_variant()
    {
        var run = CliRun.Of("models", "list");

        Assert.That(run.ExitCode, Is.EqualTo(0));
        foreach (var family in new[] { "PPLCNet:", "PPLCNetV2:", "PPLCNetV3:", "PPHGNet:", "PPHGNetV2:", "MobileNetV2:", "ResNet:", "Res2Net:", "SwinTransformer:" })
            Assert.That(run.Output, Does.Contain(family));
        var names = run.Output.Split('\n').Where(l => l.StartsWith("  ")).Select(l => l.Trim()).ToList();
        Assert.That(names, Has.Count.EqualTo(9 + 4 + 6 + 3 + 7 + 6 + 6 + 3 + 6));
        Assert.That(names, Does.Contain("PPLCNetV3_x1_0").And.Contain("SwinTransformer_tiny_patch4_window7_224"));
    }

    // Published parameter counts, to the precision printed: PP-LCNet x1_0 3.0 M (seed 001), MobileNetV2 3.5 M
    // (seed 001's comparison table). MACs are checked exactly in ModelProfileTests on a hand-counted network.
    [TestCase("PPLCNet_x1_0", 3.0, 0.05)]
    [TestCase("MobileNetV2", 3.5, 0.05)]
    // timm's figure for swin_tiny_patch4_window7_224 (28.3 M).
    [TestCase("SwinTransformer_tiny_patch4_window7_224", 28.3, 0.05)]
    public void Info_json_reports_the_published_parameters_and_the_shapes(string name, double paramsM, double paramsTolerance)
    {
        var run = CliRun.Of("models", "info", name, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        using var json = JsonDocument.Parse(run.Output);
        var root = json.RootElement;
        Assert.That(root.GetProperty("name").GetString(), Is.EqualTo(name));
        Assert.That(root.GetProperty("params").GetInt64() / 1e6, Is.EqualTo(paramsM).Within(paramsTolerance));
        Assert.That(root.GetProperty("macs").GetInt64(), Is.GreaterThan(root.GetProperty("params").GetInt64()));
        Assert.That(root.GetProperty("input").EnumerateArray().Select(e => e.GetInt64()), Is.EqualTo(new long[] { 1, 3, 224, 224 }));
        Assert.That(root.GetProperty("output").EnumerateArray().Select(e => e.GetInt64()), Is.EqualTo(new long[] { 1, 1000 }));
    }

    [Test]
    public void Info_fused_measures_the_inference_form_with_the_published_parameter_count()
    {
        using var training = JsonDocument.Parse(CliRun.Of("models", "info", "PPLCNetV2_base", "--json").Output);
        var run = CliRun.Of("models", "info", "PPLCNetV2_base", "--fused", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        using var fused = JsonDocument.Parse(run.Output);
        long fusedParams = fused.RootElement.GetProperty("params").GetInt64();
        // Seed 000 publishes 6.6 M for PPLCNetV2_base: the deployed form, rep branches merged.
        Assert.That(fusedParams / 1e6, Is.EqualTo(6.6).Within(0.05));
        Assert.That(fusedParams, Is.LessThan(training.RootElement.GetProperty("params").GetInt64()));
        Assert.That(fused.RootElement.GetProperty("macs").GetInt64(), Is.LessThan(training.RootElement.GetProperty("macs").GetInt64()),
            "the merged 3x3 and 1x1 rep branches no longer run");
    }

    [Test]
    public void Info_honours_class_num_and_image_size()
    {
        var run = CliRun.Of("models", "info", "PPLCNet_x0_25", "--class-num", "7", "--image-size", "64");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Output, Does.Contain("input:  [1, 3, 64, 64]"));
        Assert.That(run.Output, Does.Contain("output: [1, 7]"));
    }

    [Test]
    public void Info_on_an_unknown_name_suggests_the_closest()
    {
        var run = CliRun.Of("models", "info", "PPHGNetV2_B9");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.StartWith("error: NAME: unknown model 'PPHGNetV2_B9'; did you mean"));
    }
}
