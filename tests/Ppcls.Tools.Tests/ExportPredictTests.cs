using System.Globalization;
using System.Text.RegularExpressions;

namespace Ppcls.Tools.Tests;

/// <summary>
/// The deploy round trip on a model trained by the real CLI on a tiny generated data set:
/// export writes a checked ONNX folder, predict (ONNX Runtime only) gives the classes and
/// scores infer (TorchSharp) gives, and each bad input ends in one clear message.
/// </summary>
[NonParallelizable]
public sealed partial class ExportPredictTests
{
    string _root = null!;
    string _data = null!;
    string _output = null!;
    string _inference = null!;

    [OneTimeSetUp]
    public void TrainTinyModelAndExport()
    {
        _root = Directory.CreateTempSubdirectory("ppcls-export-test-").FullName;
        _data = Path.Combine(_root, "demo");
        _output = Path.Combine(_root, "out");
        _inference = Path.Combine(_root, "inference");
        var make = CliRun.Of("dataset", "make-demo", _data, "--classes", "4", "--per-class", "10", "--size", "32", "--seed", "3");
        Assert.That(make.ExitCode, Is.EqualTo(0), make.Error);
        var train = CliRun.Of(["train", .. Config(), "-o", "Global.epochs=3"]);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        var export = CliRun.Of(["export", .. Config(), "-o", $"Global.pretrained_model={Weights}", "-o", $"Global.save_inference_dir={_inference}"]);
        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
    }

    [OneTimeTearDown]
    public void RemoveData() => Directory.Delete(_root, recursive: true);

    string Weights => Path.Combine(_output, "PPLCNet_x0_25", "best_model");
    string Log(string name) => File.ReadAllText(Path.Combine(_output, "PPLCNet_x0_25", name));

    /// <summary>Runs infer with its own output folder and returns the run and its infer.log.</summary>
    (CliRun Run, string Log) Infer(params string[] extra)
    {
        string output = Path.Combine(_root, "infer-" + Guid.NewGuid().ToString("N")[..8]);
        var run = CliRun.Of(["infer", .. Config(), "-o", $"Global.pretrained_model={Weights}", "-o", $"Global.output_dir={output}", .. extra]);
        string log = Path.Combine(output, "PPLCNet_x0_25", "infer.log");
        return (run, File.Exists(log) ? File.ReadAllText(log) : "");
    }

    string[] Config() =>
    [
        "-c", CliRun.QuickStartConfig,
        "-o", $"Global.output_dir={_output}", "-o", "Global.seed=7", "-o", "Global.image_shape=[3,32,32]", "-o", "Arch.class_num=4",
        "-o", $"DataLoader.Train.dataset.image_root={_data}", "-o", $"DataLoader.Train.dataset.cls_label_path={_data}/train_list.txt",
        "-o", $"DataLoader.Eval.dataset.image_root={_data}", "-o", $"DataLoader.Eval.dataset.cls_label_path={_data}/val_list.txt",
        "-o", "DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=32",
        "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.resize_short=36",
        "-o", "DataLoader.Eval.dataset.transform_ops.2.CropImage.size=32",
        "-o", "DataLoader.Train.sampler.batch_size=8", "-o", "DataLoader.Eval.sampler.batch_size=8",
        "-o", "Metric.Train.0.TopkAcc.topk=[1,2]", "-o", "Metric.Eval.0.TopkAcc.topk=[1,2]",
        "-o", $"Infer.infer_imgs={_data}/images", "-o", "Infer.batch_size=3",
        "-o", "Infer.transforms.1.ResizeImage.resize_short=36", "-o", "Infer.transforms.2.CropImage.size=32",
        "-o", "Infer.PostProcess.topk=3", "-o", $"Infer.PostProcess.class_id_map_file={_data}/label_list.txt",
    ];

    static string[] Predict(string modelDir, string images, params string[] extra) =>
    [
        "predict", "-c", Path.Combine(CliRun.RepoRoot, "configs", "inference_cls.yaml"),
        "-o", $"Global.inference_model_dir={modelDir}", "-o", $"Global.infer_imgs={images}", .. extra,
    ];

    sealed record Prediction(int[] Ids, double[] Scores, string[] Names);

    [GeneratedRegex(@"\{'class_ids': \[(?<ids>[^\]]*)\], 'scores': \[(?<scores>[^\]]*)\], 'file_name': '(?<file>[^']*)', 'label_names': \[(?<names>[^\]]*)\]\}")]
    private static partial Regex InferResult();

    [GeneratedRegex(@"^(?<file>[^\t]+):\tclass id\(s\): \[(?<ids>[^\]]*)\], score\(s\): \[(?<scores>[^\]]*)\], label_name\(s\): \[(?<names>[^\]]*)\]$", RegexOptions.Multiline)]
    private static partial Regex PredictLine();

    static Dictionary<string, Prediction> Parse(Regex pattern, string text) =>
        pattern.Matches(text).ToDictionary(
            m => Path.GetFileName(m.Groups["file"].Value),
            m => new Prediction(
                [.. m.Groups["ids"].Value.Split(", ").Select(int.Parse)],
                [.. m.Groups["scores"].Value.Split(", ").Select(s => double.Parse(s, CultureInfo.InvariantCulture))],
                [.. m.Groups["names"].Value.Split(", ").Select(s => s.Trim('\''))]));

    [Test]
    public void Export_writes_the_onnx_model_and_a_self_contained_inference_yml_checked_against_torchsharp()
    {
        Assert.That(File.Exists(Path.Combine(_inference, "inference.onnx")), Is.True);
        string yml = File.ReadAllText(Path.Combine(_inference, "inference.yml"));
        Assert.That(yml, Does.Contain("model_name: PPLCNet_x0_25"));
        Assert.That(yml, Does.Contain("resize_short: 36"));
        Assert.That(yml, Does.Contain("size: 32"));
        Assert.That(yml, Does.Contain("scale: 0.00392156862745098"));
        Assert.That(yml, Does.Contain("topk: 3"));
        Assert.That(yml, Does.Match(@"label_list: \['red_circle', 'green_square', 'blue_triangle', 'yellow_cross'\]"));
        Assert.That(yml, Does.Not.Contain("DecodeImage"), "the predictor decodes to RGB itself, as PaddleClas's");

        string log = Log("export.log");
        Assert.That(log, Does.Contain("input x [-1, 3, 32, 32], softmax output over 4 classes"));
        foreach (var check in new[] { "random batch 1", "random batch 4", "8 images from the eval list" })
            ExportLogChecks.AssertPasses(log, check);
        Assert.That(log, Does.Contain("Export succeeded!"));
    }

    [Test]
    public void Predict_with_onnx_runtime_gives_the_ids_and_scores_infer_gives()
    {
        var (infer, inferLog) = Infer();
        var predict = CliRun.Of(Predict(_inference, Path.Combine(_data, "images"), "-o", "Global.batch_size=4"));

        Assert.That(infer.ExitCode, Is.EqualTo(0), infer.Error);
        Assert.That(predict.ExitCode, Is.EqualTo(0), predict.Error);
        var fromInfer = Parse(InferResult(), inferLog);
        var fromPredict = Parse(PredictLine(), predict.Output);
        Assert.That(fromInfer, Has.Count.EqualTo(40));
        Assert.That(fromPredict.Keys, Is.EquivalentTo(fromInfer.Keys));
        foreach (var (file, expected) in fromInfer)
        {
            var actual = fromPredict[file];
            Assert.That(actual.Ids, Is.EqualTo(expected.Ids), file);
            Assert.That(actual.Names, Is.EqualTo(expected.Names), file);
            Assert.That(actual.Scores, Is.EqualTo(expected.Scores).Within(1e-4), file);
        }
        // The model learned something: most images' top-1 is their own class (file names start with the class name).
        int right = fromPredict.Count(p => p.Key.StartsWith(p.Value.Names[0] + "_", StringComparison.Ordinal));
        TestContext.Out.WriteLine($"top-1 right on {right}/40");
        Assert.That(inferLog, Does.Contain("infer done: 40 image(s) classified"));
        Assert.That(Regex.Matches(inferLog, @"ppcls INFO: \[\{'class_ids'").Count, Is.EqualTo(14), "40 images in batches of Infer.batch_size 3: one line per batch");
    }

    [Test]
    public void Infer_without_weights_says_which_key_to_set()
    {
        var run = CliRun.Of(["infer", .. Config()]);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error.TrimEnd(), Does.Not.Contain("\n"));
        Assert.That(run.Error, Does.StartWith("error: Global.pretrained_model: not set; pass -o Global.pretrained_model=output/<Arch.name>/best_model (the trained weights)"));
    }

    [Test]
    public void Export_with_a_missing_weights_file_names_the_paths_it_tried()
    {
        var run = CliRun.Of(["export", .. Config(), "-o", $"Global.pretrained_model={_root}/nowhere/best_model", "-o", $"Global.save_inference_dir={_root}/unused"]);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.StartWith($"error: Global.pretrained_model: no weights at '{_root}/nowhere/best_model'"));
        Assert.That(Directory.Exists(Path.Combine(_root, "unused")), Is.False);
    }

    [Test]
    public void Export_into_a_path_that_is_a_file_names_the_key_and_leaves_the_file_alone()
    {
        string file = Path.Combine(_root, "not-a-folder.txt");
        File.WriteAllText(file, "keep me");

        var run = CliRun.Of(["export", .. Config(), "-o", $"Global.pretrained_model={Weights}", "-o", $"Global.save_inference_dir={file}"]);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error.Trim(), Is.EqualTo($"error: Global.save_inference_dir: '{file}' is a file, not a folder; pass -o Global.save_inference_dir=DIR with a folder path (created if missing)"));
        Assert.That(File.ReadAllText(file), Is.EqualTo("keep me"));
    }

    [Test]
    public void Export_of_a_classifier_with_infer_add_softmax_false_is_refused_and_writes_nothing()
    {
        string dir = Path.Combine(_root, "no-softmax");

        var run = CliRun.Of(["export", .. Config(), "-o", $"Global.pretrained_model={Weights}", "-o", $"Global.save_inference_dir={dir}", "-o", "Arch.infer_add_softmax=False"]);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error.Trim(), Does.StartWith("error: Arch.infer_add_softmax: False asks for raw logits"));
        Assert.That(run.Error.Trim(), Does.EndWith("remove the key"));
        Assert.That(Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any(), Is.False);
    }

    [Test]
    public void Weights_for_another_class_count_name_both_counts_and_the_fix()
    {
        var run = CliRun.Of(["export", .. Config(), "-o", "Arch.class_num=10", "-o", $"Global.pretrained_model={Weights}", "-o", $"Global.save_inference_dir={_root}/unused"]);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.Contain("the weights were trained for 4 classes (fc.weight has 4 rows) but Arch.class_num is 10; pass -o Arch.class_num=4"));
    }

    [Test]
    public void A_label_map_naming_fewer_classes_than_the_model_is_refused()
    {
        string map = Path.Combine(_root, "two_labels.txt");
        File.WriteAllText(map, "0 red_circle\n1 green_square\n");

        var (run, _) = Infer("-o", $"Infer.PostProcess.class_id_map_file={map}");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error.TrimEnd(), Is.EqualTo(
            $"error: Infer.PostProcess.class_id_map_file ({map}): names 2 classes but the model predicts 4; Arch.class_num is 4; use the label map of the training data"));
    }

    [Test]
    public void An_unreadable_image_is_named_and_skipped_by_infer_and_predict()
    {
        string folder = Path.Combine(_root, "mixed");
        Directory.CreateDirectory(folder);
        File.Copy(Directory.GetFiles(Path.Combine(_data, "images"), "*.jpg").Order().First(), Path.Combine(folder, "a_good.jpg"), overwrite: true);
        File.WriteAllText(Path.Combine(folder, "b_broken.jpg"), "not a jpeg");

        var (infer, inferLog) = Infer("-o", $"Infer.infer_imgs={folder}");
        var predict = CliRun.Of(Predict(_inference, folder));

        Assert.That(infer.ExitCode, Is.EqualTo(0), infer.Error);
        Assert.That(inferLog, Does.Contain($"cannot decode image {folder}/b_broken.jpg (10 bytes): not a readable JPEG/PNG/BMP/WebP file; skipped"));
        Assert.That(inferLog, Does.Contain("infer done: 1 image(s) classified, 1 unreadable image(s) skipped"));
        Assert.That(predict.ExitCode, Is.EqualTo(0), predict.Error);
        Assert.That(predict.Error, Does.Contain($"warning: cannot decode image {folder}/b_broken.jpg (10 bytes)"));
        Assert.That(PredictLine().Matches(predict.Output).Select(m => m.Groups["file"].Value), Is.EqualTo(new[] { "a_good.jpg" }));
    }

    [Test]
    public void Predict_on_a_folder_without_inference_yml_says_what_is_missing()
    {
        string copy = Path.Combine(_root, "onnx-only");
        Directory.CreateDirectory(copy);
        File.Copy(Path.Combine(_inference, "inference.onnx"), Path.Combine(copy, "inference.onnx"), overwrite: true);

        var run = CliRun.Of(Predict(copy, Path.Combine(_data, "images")));

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error.TrimEnd(), Does.Not.Contain("\n"));
        Assert.That(run.Error, Does.StartWith($"error: {copy}/inference.yml not found: the model folder needs the inference.yml that 'ppcls export' writes"));
    }

    [Test]
    public void Predict_on_a_missing_folder_says_how_to_create_it()
    {
        var run = CliRun.Of(Predict(Path.Combine(_root, "no-such-dir"), Path.Combine(_data, "images")));

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.StartWith($"error: Global.inference_model_dir: folder '{_root}/no-such-dir' not found; create it with 'ppcls export"));
    }
}
