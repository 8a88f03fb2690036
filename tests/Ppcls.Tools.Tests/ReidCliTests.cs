using System.Globalization;
using System.Text.RegularExpressions;
using Ppcls.Core.Checkpoint;
using Ppcls.Inference;

namespace Ppcls.Tools.Tests;

/// <summary>
/// The real CLI on the ReID quick-start config (VeriWild lists, PKSampler, FC neck, ArcMargin head,
/// CELoss + TripletLossV2): train a few steps, evaluate Recall@k / mAP, export the embedding and
/// check it in ONNX Runtime.
/// </summary>
[NonParallelizable]
public sealed class ReidCliTests
{
    static readonly string ReidConfig = Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_reid_demo.yaml");

    [Test]
    public void An_arcmargin_reid_model_trains_evaluates_recall_and_map_and_exports_its_embedding()
    {
        using var demo = new DemoData();
        string output = demo.NewOutput();
        string[] args = [.. MetricLearningCliTests.Overrides(demo, output, epochs: 2, config: ReidConfig), "-o", "Arch.Head.class_num=4"];

        var train = CliRun.Of(["train", .. args]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string log = File.ReadAllText(Path.Combine(output, "RecModel", "train.log"));
        var evals = MetricLearningCliTests.EvalLine.Matches(log).ToList();
        Assert.That(evals.Select(m => m.Groups[1].Value), Is.EqualTo(new[] { "1", "2" }), log);
        foreach (var m in evals)
            foreach (int g in new[] { 3, 4, 5 })
                Assert.That(double.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture), Is.InRange(0.0, 1.0));
        Assert.That(log, Does.Contain("Build gallery done, all feat shape: [32, 64]").And.Contain("Build query done, all feat shape: [8, 64]"));
        // The margin head's logits in training are scaled by 30: CELoss starts far above ln(4) for random weights.
        var ce = Regex.Matches(log, @"CELoss: (\d+\.\d+)").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.That(ce, Is.Not.Empty, log);
        Assert.That(ce[0], Is.GreaterThan(Math.Log(4) + 1), "ArcMargin's scale-30 margin logits, not plain cosines, feed CELoss in training");
        string best = Path.Combine(output, "RecModel", "best_model");
        string file = WeightLoader.Resolve(best, "best_model");
        var weights = file.EndsWith(".pdparams", StringComparison.Ordinal) ? PdparamsFile.Read(file) : SafeTensorsFile.Read(file).Tensors;
        Assert.That(weights["head.weight"].shape, Is.EqualTo(new long[] { 64, 4 }), "ArcMargin's weight in Paddle's layout [embedding_size, class_num]");

        string inference = Path.Combine(output, "inference");
        var export = CliRun.Of(["export", .. args, "-o", $"Global.pretrained_model={best}", "-o", $"Global.save_inference_dir={inference}"]);

        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        string exportLog = File.ReadAllText(Path.Combine(output, "RecModel", "export.log"));
        Assert.That(exportLog, Does.Contain("features output [-1, 64]").And.Contain("8 images from the eval list: max |df|"));
        // ORT against TorchSharp on real eval images: the largest difference, the value it was on, and the check's tolerance.
        var check = Regex.Match(exportLog, @"8 images from the eval list: max \|df\| ([0-9.eE+-]+) \(image \d+, dim \d+: TorchSharp ([0-9.eE+-]+) vs ORT [0-9.eE+-]+\), tolerance ([0-9.eE+-]+)");
        Assert.That(check.Success, Is.True, exportLog);
        double df = double.Parse(check.Groups[1].Value, CultureInfo.InvariantCulture);
        double value = Math.Abs(double.Parse(check.Groups[2].Value, CultureInfo.InvariantCulture));
        Assert.That(df, Is.LessThanOrEqualTo(double.Parse(check.Groups[3].Value, CultureInfo.InvariantCulture)));
        Assert.That(df, Is.LessThanOrEqualTo(1e-5 * Math.Max(1.0, value)), "ONNX Runtime agrees with TorchSharp to float32 precision");
        using var session = new OnnxClassifier(Path.Combine(inference, "inference.onnx"));
        var embedding = session.Run(new float[3 * 32 * 32], [1, 3, 32, 32]);
        Assert.That(embedding, Has.Length.EqualTo(64), "the export holds the 64-d embedding, not the head");

        string softmaxed = Path.Combine(output, "softmaxed");
        var refused = CliRun.Of(["export", .. args, "-o", $"Global.pretrained_model={best}", "-o", $"Global.save_inference_dir={softmaxed}", "-o", "Arch.infer_add_softmax=True"]);
        Assert.That(refused.ExitCode, Is.EqualTo(2));
        Assert.That(refused.Error.Trim(), Is.EqualTo("error: Arch.infer_add_softmax: a RecModel exports its features without Softmax in Ppcls; set infer_add_softmax: False"));
        Assert.That(Directory.Exists(softmaxed), Is.False);
    }
}
