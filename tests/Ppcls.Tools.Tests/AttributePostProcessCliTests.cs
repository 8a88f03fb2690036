using System.Text.RegularExpressions;

namespace Ppcls.Tools.Tests;

/// <summary>
/// An attribute post-process end to end on a plain six-output classifier (TableAttribute reads six
/// scores): export appends Sigmoid, `infer` logs PaddleClas's attribute dicts, and `predict`
/// (ONNX Runtime only) prints the same attributes and output vectors.
/// </summary>
[NonParallelizable]
public sealed class AttributePostProcessCliTests
{
    string _root = null!;

    [OneTimeSetUp]
    public void MakeData() => _root = Directory.CreateTempSubdirectory("ppcls-attr-test-").FullName;

    [OneTimeTearDown]
    public void RemoveData() => Directory.Delete(_root, recursive: true);

    [Test]
    public void TableAttribute_on_a_six_output_model_gives_the_same_attributes_in_infer_and_predict()
    {
        string data = Path.Combine(_root, "demo"), output = Path.Combine(_root, "out"), folder = Path.Combine(_root, "inference");
        var make = CliRun.Of("dataset", "make-demo", data, "--classes", "6", "--per-class", "3", "--size", "32", "--seed", "2");
        Assert.That(make.ExitCode, Is.EqualTo(0), make.Error);
        string config = Path.Combine(_root, "table.yaml");
        string quickStart = File.ReadAllText(CliRun.QuickStartConfig);
        const string topk = "    name: Topk\n    topk: 5\n    class_id_map_file: ./dataset/demo/label_list.txt\n";
        File.WriteAllText(config, quickStart.Replace(topk, "    name: TableAttribute\n    source_threshold: 0.4\n    angle_threshold: 0.6\n"));
        string[] args =
        [
            "-c", config, "-o", $"Global.output_dir={output}", "-o", "Global.seed=3", "-o", "Global.image_shape=[3,32,32]", "-o", "Arch.class_num=6",
            "-o", $"DataLoader.Train.dataset.image_root={data}", "-o", $"DataLoader.Train.dataset.cls_label_path={data}/train_list.txt",
            "-o", $"DataLoader.Eval.dataset.image_root={data}", "-o", $"DataLoader.Eval.dataset.cls_label_path={data}/val_list.txt",
            "-o", "DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=32",
            "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.resize_short=36", "-o", "DataLoader.Eval.dataset.transform_ops.2.CropImage.size=32",
            "-o", "DataLoader.Train.sampler.batch_size=6", "-o", "DataLoader.Eval.sampler.batch_size=6",
            "-o", $"Infer.infer_imgs={data}/images", "-o", "Infer.batch_size=4",
            "-o", "Infer.transforms.1.ResizeImage.resize_short=36", "-o", "Infer.transforms.2.CropImage.size=32",
        ];
        var train = CliRun.Of(["train", .. args, "-o", "Global.epochs=1"]);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string weights = Path.Combine(output, "PPLCNet_x0_25", "best_model");
        var export = CliRun.Of(["export", .. args, "-o", $"Global.pretrained_model={weights}", "-o", $"Global.save_inference_dir={folder}"]);
        var infer = CliRun.Of(["infer", .. args, "-o", $"Global.pretrained_model={weights}"]);
        var predict = CliRun.Of(
            "predict", "-c", Path.Combine(CliRun.RepoRoot, "configs", "inference_cls.yaml"),
            "-o", $"Global.inference_model_dir={folder}", "-o", $"Global.infer_imgs={data}/images");

        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        Assert.That(infer.ExitCode, Is.EqualTo(0), infer.Error);
        Assert.That(predict.ExitCode, Is.EqualTo(0), predict.Error);
        Assert.That(File.ReadAllText(Path.Combine(output, "PPLCNet_x0_25", "export.log")), Does.Contain("sigmoid output over 6 classes for TableAttribute"));
        Assert.That(File.ReadAllText(Path.Combine(folder, "inference.yml")), Does.Contain(
            "PostProcess:\n  TableAttribute:\n    source_threshold: 0.4\n    number_threshold: 0.5\n    color_threshold: 0.5\n    clarity_threshold: 0.5\n    obstruction_threshold: 0.5\n    angle_threshold: 0.6\n"));

        const string words = @"\['(Scanned|Photo)', '(Little|Numerous)', '(Black-and-White|Multicolor)', '(Clear|Blurry)', '(Without-Obstacles|With-Obstacles)', '(Horizontal|Tilted)'\]";
        var fromInfer = Regex.Matches(File.ReadAllText(Path.Combine(output, "PPLCNet_x0_25", "infer.log")),
                $@"\{{'attributes': (?<a>{words}), 'output': (?<o>\[[01](, [01]){{5}}\]), 'file_name': '(?<f>[^']*)'\}}")
            .ToDictionary(m => Path.GetFileName(m.Groups["f"].Value), m => (m.Groups["a"].Value, m.Groups["o"].Value));
        var fromPredict = Regex.Matches(predict.Output, $@"^(?<f>[^\t]+):\t \{{'attributes': (?<a>{words}), 'output': (?<o>\[[01](, [01]){{5}}\])\}}$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups["f"].Value, m => (m.Groups["a"].Value, m.Groups["o"].Value));
        Assert.That(fromInfer, Has.Count.EqualTo(18));
        Assert.That(fromPredict, Is.EquivalentTo(fromInfer));
    }
}
