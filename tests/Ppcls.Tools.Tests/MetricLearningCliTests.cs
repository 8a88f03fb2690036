using System.Globalization;
using System.Text.RegularExpressions;
using Ppcls.Core.Checkpoint;

namespace Ppcls.Tools.Tests;

/// <summary>
/// The real CLI on the quick-start metric-learning config (RecModel, PKSampler, retrieval eval of
/// DataLoader.Eval.Query against .Gallery): train, eval and export, as a user runs them.
/// </summary>
[NonParallelizable]
public sealed class MetricLearningCliTests
{
    public static readonly string TripletConfig = Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_triplet_demo.yaml");

    /// <summary>PaddleClas's retrieval line: `[Eval][Epoch 2][Avg]recall1: 0.62500, recall5: 1.00000, mAP: 0.51234`.</summary>
    public static readonly Regex EvalLine = new(@"\[Eval\]\[Epoch (\d+)\]\[Avg\](recall1: (\d\.\d{5}), recall5: (\d\.\d{5}), mAP: (\d\.\d{5}))\s*$", RegexOptions.Multiline);

    /// <summary>
    /// The triplet config on the test's demo set (4 classes, 32 px): the training list is the
    /// gallery, the val list the query set, with 32 px crops; PK batches of 2 classes x 4 images.
    /// </summary>
    public static string[] Overrides(DemoData demo, string output, int epochs, string? config = null)
    {
        var args = new List<string>
        {
            "-c", config ?? TripletConfig,
            "-o", $"Global.output_dir={output}", "-o", $"Global.epochs={epochs}", "-o", "Global.seed=7", "-o", "Global.print_batch_step=1",
            "-o", "Global.image_shape=[3,32,32]", "-o", "Arch.class_num=4",
            "-o", $"DataLoader.Train.dataset.image_root={demo.Data}", "-o", $"DataLoader.Train.dataset.cls_label_path={demo.Data}/train_list.txt",
            "-o", "DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=32", "-o", "DataLoader.Train.sampler.batch_size=8",
            "-o", "Infer.transforms.1.ResizeImage.resize_short=36", "-o", "Infer.transforms.2.CropImage.size=32",
        };
        foreach (var (loader, list) in new[] { ("Gallery", "train_list.txt"), ("Query", "val_list.txt") })
            args.AddRange([
                "-o", $"DataLoader.Eval.{loader}.dataset.image_root={demo.Data}", "-o", $"DataLoader.Eval.{loader}.dataset.cls_label_path={demo.Data}/{list}",
                "-o", $"DataLoader.Eval.{loader}.dataset.transform_ops.1.ResizeImage.resize_short=36",
                "-o", $"DataLoader.Eval.{loader}.dataset.transform_ops.2.CropImage.size=32",
                "-o", $"DataLoader.Eval.{loader}.sampler.batch_size=4",
            ]);
        return [.. args];
    }

    static double Number(Group g) => double.Parse(g.Value, CultureInfo.InvariantCulture);

    [Test]
    public void Training_evaluates_query_against_gallery_and_eval_and_export_use_the_best_recall1_checkpoint()
    {
        using var demo = new DemoData();
        string output = demo.NewOutput();
        var train = CliRun.Of(["train", .. Overrides(demo, output, epochs: 3)]);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);

        string log = File.ReadAllText(Path.Combine(output, "RecModel", "train.log"));
        Assert.That(log, Does.Contain("Build gallery done, all feat shape: [32, 64]").And.Contain("Build query done, all feat shape: [8, 64]"));
        var evals = EvalLine.Matches(log).ToList();
        Assert.That(evals.Select(m => m.Groups[1].Value), Is.EqualTo(new[] { "1", "2", "3" }), log);
        var recall1 = evals.Select(m => Number(m.Groups[3])).ToList();
        var done = Regex.Match(log, @"training done: 3 epoch\(s\), best (\S+) (\d\.\d{5}) at epoch (\d)");
        Assert.That(done.Success, Is.True, log);
        Assert.That(done.Groups[1].Value, Is.EqualTo("recall1"));
        Assert.That(Number(done.Groups[2]), Is.EqualTo(recall1.Max()).Within(1e-5));
        int bestEpoch = int.Parse(done.Groups[3].Value, CultureInfo.InvariantCulture);
        Assert.That(bestEpoch, Is.EqualTo(recall1.LastIndexOf(recall1.Max()) + 1), "a tie saves best_model again (PaddleClas's >=): the last epoch reaching the best value is kept");
        string best = Path.Combine(output, "RecModel", "best_model");
        var state = CheckpointStore.Load(best, "test").State;
        Assert.That((state.Epoch, state.BestEpoch), Is.EqualTo((bestEpoch, bestEpoch)));
        Assert.That(state.BestMetric, Is.EqualTo(recall1.Max()).Within(1e-5));

        // ppcls eval of best_model prints the very line training printed at that epoch.
        var eval = CliRun.Of(["eval", .. Overrides(demo, output, epochs: 3), "-o", $"Global.pretrained_model={best}"]);
        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        string evalLog = File.ReadAllText(Path.Combine(output, "RecModel", "eval.log"));
        var evalLine = EvalLine.Match(evalLog);
        Assert.That(evalLine.Success, Is.True, evalLog);
        Assert.That(evalLine.Groups[1].Value, Is.EqualTo("0"));
        Assert.That(evalLine.Groups[2].Value, Is.EqualTo(evals[bestEpoch - 1].Groups[2].Value));

        // Export writes the embedding (features), checked in ONNX Runtime; predict refuses it.
        string inference = Path.Combine(output, "inference");
        var export = CliRun.Of(["export", .. Overrides(demo, output, epochs: 3), "-o", $"Global.pretrained_model={best}", "-o", $"Global.save_inference_dir={inference}"]);
        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        Assert.That(File.ReadAllText(Path.Combine(output, "RecModel", "export.log")),
            Does.Contain("features output [-1, 64]").And.Contain("8 images from the eval list: max |df|"));
        string yaml = File.ReadAllText(Path.Combine(inference, "inference.yml"));
        Assert.That(yaml, Does.Contain("PreProcess:").And.Not.Contain("PostProcess").And.Not.Contain("Topk"));
        var predict = CliRun.Of(["predict", "-c", Path.Combine(CliRun.RepoRoot, "configs", "inference_cls.yaml"),
            "-o", $"Global.inference_model_dir={inference}", "-o", $"Global.infer_imgs={demo.Data}/images"]);
        Assert.That(predict.ExitCode, Is.Not.EqualTo(0));
        Assert.That(predict.Error, Does.Contain("outputs embeddings (features) of a recognition model, not class probabilities"));
    }
}
