using System.Globalization;
using System.Text.RegularExpressions;

namespace Ppcls.Tools.Tests;

/// <summary>
/// PULC's binary post-process end to end on a tiny two-class model trained by the real CLI:
/// `infer` (TorchSharp) logs ThreshOutput's dicts, `export` writes ThreshOutput into inference.yml,
/// and `predict` (ONNX Runtime only) prints the same classes, names and scores.
/// </summary>
[NonParallelizable]
public sealed partial class ThreshOutputCliTests
{
    string _root = null!;
    string _data = null!;
    string _config = null!;
    string _inference = null!;

    const string ThreshBlock = "    name: ThreshOutput\n    threshold: 0.6\n    label_0: nobody\n    label_1: someone\n";

    [OneTimeSetUp]
    public void TrainBinaryModelAndExport()
    {
        _root = Directory.CreateTempSubdirectory("ppcls-thresh-test-").FullName;
        _data = Path.Combine(_root, "demo");
        _inference = Path.Combine(_root, "inference");
        var make = CliRun.Of("dataset", "make-demo", _data, "--classes", "2", "--per-class", "8", "--size", "32", "--seed", "5");
        Assert.That(make.ExitCode, Is.EqualTo(0), make.Error);
        string quickStart = File.ReadAllText(CliRun.QuickStartConfig);
        const string topk = "    name: Topk\n    topk: 5\n    class_id_map_file: ./dataset/demo/label_list.txt\n";
        Assert.That(quickStart, Does.Contain(topk));
        _config = Path.Combine(_root, "binary.yaml");
        File.WriteAllText(_config, quickStart.Replace(topk, ThreshBlock));
        var train = CliRun.Of(["train", .. Config(), "-o", "Global.epochs=2"]);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        var export = CliRun.Of(["export", .. Config(), "-o", $"Global.pretrained_model={Weights}", "-o", $"Global.save_inference_dir={_inference}"]);
        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
    }

    [OneTimeTearDown]
    public void RemoveData() => Directory.Delete(_root, recursive: true);

    string Output => Path.Combine(_root, "out");
    string Weights => Path.Combine(Output, "PPLCNet_x0_25", "best_model");

    string[] Config() =>
    [
        "-c", _config,
        "-o", $"Global.output_dir={Output}", "-o", "Global.seed=7", "-o", "Global.image_shape=[3,32,32]", "-o", "Arch.class_num=2",
        "-o", $"DataLoader.Train.dataset.image_root={_data}", "-o", $"DataLoader.Train.dataset.cls_label_path={_data}/train_list.txt",
        "-o", $"DataLoader.Eval.dataset.image_root={_data}", "-o", $"DataLoader.Eval.dataset.cls_label_path={_data}/val_list.txt",
        "-o", "DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=32",
        "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.resize_short=36",
        "-o", "DataLoader.Eval.dataset.transform_ops.2.CropImage.size=32",
        "-o", "DataLoader.Train.sampler.batch_size=8", "-o", "DataLoader.Eval.sampler.batch_size=8",
        "-o", "Metric.Train.0.TopkAcc.topk=[1,2]", "-o", "Metric.Eval.0.TopkAcc.topk=[1,2]",
        "-o", $"Infer.infer_imgs={_data}/images", "-o", "Infer.batch_size=5",
        "-o", "Infer.transforms.1.ResizeImage.resize_short=36", "-o", "Infer.transforms.2.CropImage.size=32",
    ];

    sealed record Prediction(int Id, double Score, string Name);

    [GeneratedRegex(@"\{'class_ids': \[(?<id>\d)\], 'scores': \[(?<score>[0-9.e-]+)\], 'label_names': \['(?<name>\w+)'\], 'file_name': '(?<file>[^']*)'\}")]
    private static partial Regex InferResult();

    [GeneratedRegex(@"^(?<file>[^\t]+):\tclass id\(s\): \[(?<id>\d)\], score\(s\): \[(?<score>[0-9.]+)\], label_name\(s\): \['(?<name>\w+)'\]$", RegexOptions.Multiline)]
    private static partial Regex PredictLine();

    static Dictionary<string, Prediction> Parse(Regex pattern, string text) =>
        pattern.Matches(text).ToDictionary(
            m => Path.GetFileName(m.Groups["file"].Value),
            m => new Prediction(int.Parse(m.Groups["id"].Value), double.Parse(m.Groups["score"].Value, CultureInfo.InvariantCulture), m.Groups["name"].Value));

    [Test]
    public void Export_writes_ThreshOutput_with_its_options_into_inference_yml_after_a_softmax_output()
    {
        string yml = File.ReadAllText(Path.Combine(_inference, "inference.yml"));
        Assert.That(yml, Does.Contain("PostProcess:\n  ThreshOutput:\n    threshold: 0.6\n    default_label_index: 0\n    label_0: 'nobody'\n    label_1: 'someone'\n"));
        Assert.That(yml, Does.Not.Contain("Topk"));
        string log = File.ReadAllText(Path.Combine(Output, "PPLCNet_x0_25", "export.log"));
        Assert.That(log, Does.Contain("softmax output over 2 classes for ThreshOutput"));
        Assert.That(log, Does.Contain("Export succeeded!"));
    }

    [Test]
    public void Infer_and_predict_give_the_same_thresholded_class_name_and_score_per_image()
    {
        string inferOutput = Path.Combine(_root, "infer");
        var infer = CliRun.Of(["infer", .. Config(), "-o", $"Global.pretrained_model={Weights}", "-o", $"Global.output_dir={inferOutput}"]);
        var predict = CliRun.Of(
            "predict", "-c", Path.Combine(CliRun.RepoRoot, "configs", "inference_cls.yaml"),
            "-o", $"Global.inference_model_dir={_inference}", "-o", $"Global.infer_imgs={_data}/images", "-o", "Global.batch_size=4");

        Assert.That(infer.ExitCode, Is.EqualTo(0), infer.Error);
        Assert.That(predict.ExitCode, Is.EqualTo(0), predict.Error);
        string inferLog = File.ReadAllText(Path.Combine(inferOutput, "PPLCNet_x0_25", "infer.log"));
        var fromInfer = Parse(InferResult(), inferLog);
        var fromPredict = Parse(PredictLine(), predict.Output);
        Assert.That(fromInfer, Has.Count.EqualTo(16));
        Assert.That(fromPredict.Keys, Is.EquivalentTo(fromInfer.Keys));
        foreach (var (file, expected) in fromInfer)
        {
            Assert.That(fromPredict[file] with { Score = expected.Score }, Is.EqualTo(expected), file);
            Assert.That(fromPredict[file].Score, Is.EqualTo(expected.Score).Within(1e-4), file);
            // ThreshOutput's rule: class 1 ('someone') scores p1 >= 0.6; class 0 ('nobody') scores 1 - p1 > 0.4.
            Assert.That(expected.Name, Is.EqualTo(expected.Id == 1 ? "someone" : "nobody"), file);
            Assert.That(expected.Score, expected.Id == 1 ? Is.GreaterThanOrEqualTo(0.6) : Is.GreaterThan(0.4), file);
        }
        Assert.That(Regex.Matches(inferLog, @"ppcls INFO: \[\{'class_ids'").Count, Is.EqualTo(4), "16 images in batches of 5");
    }

    [Test]
    public void A_threshold_of_one_puts_every_image_in_class_0_in_infer_and_predict()
    {
        string deploy = Path.Combine(_root, "deploy-threshold-1.yaml");
        File.WriteAllText(deploy, "Global:\n  batch_size: 4\nPostProcess:\n  ThreshOutput:\n    threshold: 1.0\n    label_0: nobody\n    label_1: someone\n");
        var predict = CliRun.Of("predict", "-c", deploy, "-o", $"Global.inference_model_dir={_inference}", "-o", $"Global.infer_imgs={_data}/images");

        Assert.That(predict.ExitCode, Is.EqualTo(0), predict.Error);
        var results = Parse(PredictLine(), predict.Output);
        Assert.That(results, Has.Count.EqualTo(16));
        Assert.That(results.Values.Select(r => (r.Id, r.Name)).Distinct(), Is.EqualTo(new[] { (0, "nobody") }));
    }

    [Test]
    public void A_sigmoid_post_process_on_the_softmax_export_is_refused_in_one_line()
    {
        string deploy = Path.Combine(_root, "deploy-multilabel.yaml");
        File.WriteAllText(deploy, "Global:\n  batch_size: 1\nPostProcess:\n  MultiLabelThreshOutput:\n    threshold: 0.5\n");
        var predict = CliRun.Of("predict", "-c", deploy, "-o", $"Global.inference_model_dir={_inference}", "-o", $"Global.infer_imgs={_data}/images");

        Assert.That(predict.ExitCode, Is.EqualTo(2));
        Assert.That(predict.Error.Split('\n').Count(l => l.StartsWith("error:")), Is.EqualTo(1));
        Assert.That(predict.Error.Trim().Split('\n')[^1], Is.EqualTo(
            $"error: PostProcess.MultiLabelThreshOutput: MultiLabelThreshOutput reads sigmoid scores but {Path.Combine(_inference, "inference.onnx")} outputs softmax scores; " +
            "use the post-process the model was exported with (its inference.yml), or export again with this one in Infer.PostProcess"));
    }
    [Test]
    public void A_multi_label_post_process_exports_a_sigmoid_output_and_infer_and_predict_agree_on_it()
    {
        string config = Path.Combine(_root, "multilabel.yaml");
        File.WriteAllText(config, File.ReadAllText(_config).Replace(ThreshBlock, $"    name: MultiLabelThreshOutput\n    threshold: 0.3\n    class_id_map_file: {_data}/label_list.txt\n"));
        string output = Path.Combine(_root, "multilabel-out"), folder = Path.Combine(_root, "multilabel-inference");
        string[] args = [.. Config()[2..], "-c", config, "-o", $"Global.pretrained_model={Weights}", "-o", $"Global.output_dir={output}"];
        var export = CliRun.Of(["export", .. args, "-o", $"Global.save_inference_dir={folder}"]);
        var infer = CliRun.Of(["infer", .. args]);
        var predict = CliRun.Of(
            "predict", "-c", Path.Combine(CliRun.RepoRoot, "configs", "inference_cls.yaml"),
            "-o", $"Global.inference_model_dir={folder}", "-o", $"Global.infer_imgs={_data}/images");

        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        Assert.That(infer.ExitCode, Is.EqualTo(0), infer.Error);
        Assert.That(predict.ExitCode, Is.EqualTo(0), predict.Error);
        Assert.That(File.ReadAllText(Path.Combine(output, "PPLCNet_x0_25", "export.log")), Does.Contain("sigmoid output over 2 classes for MultiLabelThreshOutput"));
        Assert.That(File.ReadAllText(Path.Combine(folder, "inference.yml")), Does.Contain("PostProcess:\n  MultiLabelThreshOutput:\n    threshold: 0.3\n    label_list: ["));
        // infer's dicts end with file_name; predict prints the same ids, names and (5-decimal) scores per image.
        var inferLines = Regex.Matches(File.ReadAllText(Path.Combine(output, "PPLCNet_x0_25", "infer.log")),
            @"\{'class_ids': \[(?<ids>[^\]]*)\], 'scores': \[(?<scores>[^\]]*)\], 'label_names': \[(?<names>[^\]]*)\], 'file_name': '(?<file>[^']*)'\}");
        var predictLines = Regex.Matches(predict.Output,
            @"^(?<file>[^\t]+):\tclass id\(s\): \[(?<ids>[^\]]*)\], score\(s\): \[(?<scores>[^\]]*)\], label_name\(s\): \[(?<names>[^\]]*)\]$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups["file"].Value);
        Assert.That(inferLines, Has.Count.EqualTo(16));
        int multi = 0;
        foreach (Match line in inferLines)
        {
            var other = predictLines[Path.GetFileName(line.Groups["file"].Value)];
            Assert.That(other.Groups["ids"].Value, Is.EqualTo(line.Groups["ids"].Value));
            Assert.That(other.Groups["names"].Value, Is.EqualTo(line.Groups["names"].Value));
            var scores = line.Groups["scores"].Value.Split(", ", StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
            Assert.That(scores, Is.All.GreaterThanOrEqualTo(0.3));
            Assert.That(other.Groups["scores"].Value.Split(", ", StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)),
                Is.EqualTo(scores).Within(1e-4));
            if (scores.Count == 2) multi++;
        }
        TestContext.Out.WriteLine($"{multi}/16 images with both labels at threshold 0.3");
    }
}
