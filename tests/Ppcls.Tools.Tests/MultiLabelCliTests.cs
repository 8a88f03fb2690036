using System.Globalization;
using System.Text.RegularExpressions;

namespace Ppcls.Tools.Tests;

/// <summary>
/// Multi-label training through the real CLI on the demo images, each given 3 attributes from its class:
/// the quick-start attribute config (MultiLabelDataset with label_ratio, MultiLabelLoss weight_ratio,
/// Padv2 + RandomCropImage, ATTRMetric) and the ML-Decoder config (use_ml_decoder, Cutout,
/// RandAugmentV4, MultiLabelAsymmetricLoss, MultiLabelMAP), then eval of the best model.
/// </summary>
[NonParallelizable]
public sealed class MultiLabelCliTests
{
    static readonly string AttributeConfig = Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_attribute_demo.yaml");
    static readonly string MlDecoderConfig = Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_ml_decoder_demo.yaml");

    DemoData _demo = null!;

    [OneTimeSetUp]
    public void MakeAttributeLists()
    {
        _demo = new DemoData();
        // As the configs' header says: attribute 0 = class bit 0, attribute 1 = class bit 1, attribute 2 = class 0.
        foreach (var split in new[] { "train", "val" })
            File.WriteAllLines(Path.Combine(_demo.Data, $"attr_{split}_list.txt"),
                File.ReadAllLines(Path.Combine(_demo.Data, $"{split}_list.txt")).Select(line =>
                {
                    var fields = line.Split(' ');
                    int c = int.Parse(fields[1], CultureInfo.InvariantCulture);
                    return $"{fields[0]}\t{c % 2},{c / 2 % 2},{(c == 0 ? 1 : 0)}";
                }));
    }

    [OneTimeTearDown]
    public void RemoveData() => _demo.Dispose();

    string[] Overrides(string config, string output, params string[] more) =>
    [
        "-c", config, "-o", $"Global.output_dir={output}", "-o", "Global.epochs=2", "-o", "Global.seed=7", "-o", "Global.print_batch_step=1",
        "-o", $"DataLoader.Train.dataset.image_root={_demo.Data}", "-o", $"DataLoader.Train.dataset.cls_label_path={_demo.Data}/attr_train_list.txt",
        "-o", $"DataLoader.Eval.dataset.image_root={_demo.Data}", "-o", $"DataLoader.Eval.dataset.cls_label_path={_demo.Data}/attr_val_list.txt",
        "-o", "DataLoader.Train.sampler.batch_size=8", "-o", "DataLoader.Train.loader.num_workers=0", "-o", "DataLoader.Eval.loader.num_workers=0",
        .. more,
    ];

    static double Number(Match m, string group) => double.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);

    [Test]
    public void An_attribute_model_trains_on_label_vectors_and_is_judged_by_ATTRMetric_in_PaddleClas_words()
    {
        string output = _demo.NewOutput();
        var train = CliRun.Of(["train", .. Overrides(AttributeConfig, output,
            "-o", "DataLoader.Train.dataset.transform_ops.1.ResizeImage.size=[32,32]", "-o", "DataLoader.Train.dataset.transform_ops.2.Padv2.size=[36,36]",
            "-o", "DataLoader.Train.dataset.transform_ops.3.RandomCropImage.size=[32,32]", "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.size=[32,32]")]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string dir = Path.Combine(output, "PPLCNet_x0_25");
        string log = File.ReadAllText(Path.Combine(dir, "train.log"));
        Assert.That(log, Does.Match(@"\[Train\]\[Epoch 2/2\]\[Avg\]MultiLabelLoss: \d+\.\d{5}, loss: \d+\.\d{5}"));
        var evals = Regex.Matches(log, @"\[Eval\]\[Epoch (?<epoch>\d)\]\[Avg\]evalres: ma: (?<ma>\d\.\d{5}) label_f1: \d\.\d{5} label_pos_recall: (?<pos>\d\.\d{5}) " +
            @"label_neg_recall: (?<neg>\d\.\d{5}) instance_f1: \d\.\d{5} instance_acc: \d\.\d{5} instance_prec: \d\.\d{5} instance_recall: \d\.\d{5}\r?$", RegexOptions.Multiline);
        Assert.That(evals, Has.Count.EqualTo(2), log);
        // ma is the mean over attributes of (pos + neg) / 2, so it equals the mean of the two mean recalls.
        foreach (Match m in evals)
            Assert.That(Number(m, "ma"), Is.EqualTo((Number(m, "pos") + Number(m, "neg")) / 2).Within(1e-5));
        var best = Regex.Match(log, @"best ma (?<ma>\d\.\d{5}) at epoch (?<epoch>\d)");
        Assert.That(best.Success, Is.True, log);
        Assert.That(Number(best, "ma"), Is.EqualTo(evals.Max(m => Number(m, "ma"))));

        var eval = CliRun.Of(["eval", .. Overrides(AttributeConfig, output, "-o", $"Global.pretrained_model={Path.Combine(dir, "best_model")}",
            "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.size=[32,32]")]);

        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        string evalLog = File.ReadAllText(Path.Combine(dir, "eval.log"));
        Assert.That(evalLog, Does.Match(@"\[Eval\]\[Epoch 0\]\[Iter: 0/1\], batch_cost: "), "ATTRMetric's iteration lines carry no values, as PaddleClas's");
        Assert.That(evalLog, Does.Contain("a multi-label model has no class confusion matrix"));
        var again = Regex.Match(evalLog, @"\[Eval\]\[Epoch 0\]\[Avg\]evalres: ma: (?<ma>\d\.\d{5})");
        Assert.That(Number(again, "ma"), Is.EqualTo(Number(best, "ma")), "the best model evaluates to the ma it was kept for");

        // The trained attribute model ships: a sigmoid export checked by ONNX Runtime, and infer and predict keep the same attributes.
        string folder = Path.Combine(output, "inference");
        string[] deployed = ["-o", $"Global.pretrained_model={Path.Combine(dir, "best_model")}", "-o", "Global.image_shape=[3,32,32]",
            "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.size=[32,32]", "-o", "Infer.transforms.1.ResizeImage.size=[32,32]",
            "-o", $"Infer.infer_imgs={_demo.Data}/images", "-o", $"Global.save_inference_dir={folder}"];
        var export = CliRun.Of(["export", .. Overrides(AttributeConfig, output, deployed)]);
        var infer = CliRun.Of(["infer", .. Overrides(AttributeConfig, output, deployed)]);
        var predict = CliRun.Of("predict", "-c", Path.Combine(CliRun.RepoRoot, "configs", "inference_cls.yaml"),
            "-o", $"Global.inference_model_dir={folder}", "-o", $"Global.infer_imgs={_demo.Data}/images");

        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        Assert.That(infer.ExitCode, Is.EqualTo(0), infer.Error);
        Assert.That(predict.ExitCode, Is.EqualTo(0), predict.Error);
        Assert.That(File.ReadAllText(Path.Combine(dir, "export.log")), Does.Contain("sigmoid output over 3 classes for MultiLabelThreshOutput"));
        var inferred = Regex.Matches(File.ReadAllText(Path.Combine(dir, "infer.log")),
            @"\{'class_ids': \[(?<ids>[^\]]*)\], 'scores': \[(?<scores>[^\]]*)\], 'label_names': \[[^\]]*\], 'file_name': '(?<file>[^']*)'\}");
        var predicted = Regex.Matches(predict.Output, @"^(?<file>[^\t]+):\tclass id\(s\): \[(?<ids>[^\]]*)\], score\(s\): \[(?<scores>[^\]]*)\]", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups["file"].Value);
        int images = Directory.GetFiles(Path.Combine(_demo.Data, "images"), "*", SearchOption.AllDirectories).Length;
        Assert.That(images, Is.EqualTo(40), "the demo set: 4 classes of 10 images");
        Assert.That(inferred, Has.Count.EqualTo(images));
        Assert.That(predicted, Has.Count.EqualTo(images));
        foreach (Match line in inferred)
        {
            var other = predicted[Path.GetFileName(line.Groups["file"].Value)];
            Assert.That(other.Groups["ids"].Value, Is.EqualTo(line.Groups["ids"].Value), line.Value);
            var scores = Scores(line.Groups["scores"].Value);
            Assert.That(scores, Is.All.InRange(0.5, 1.0), "MultiLabelThreshOutput keeps sigmoid scores at the threshold and above");
            Assert.That(Scores(other.Groups["scores"].Value), Is.EqualTo(scores).Within(1e-4));
        }
    }

    static double[] Scores(string list) =>
        [.. list.Split(", ", StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture))];

    [Test]
    public void An_ML_Decoder_model_trains_with_the_asymmetric_loss_and_is_judged_by_MultiLabelMAP()
    {
        string output = _demo.NewOutput();
        var train = CliRun.Of(["train", .. Overrides(MlDecoderConfig, output,
            "-o", "DataLoader.Train.dataset.transform_ops.1.ResizeImage.size=32", "-o", "DataLoader.Train.dataset.transform_ops.2.Cutout.length=8",
            "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.size=32")]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string dir = Path.Combine(output, "PPLCNet_x0_25");
        string log = File.ReadAllText(Path.Combine(dir, "train.log"));
        var evals = Regex.Matches(log, @"\[Eval\]\[Epoch \d\]\[Avg\]MultiLabelAsymmetricLoss: (?<term>\d+\.\d{5}), loss: (?<loss>\d+\.\d{5}), MultiLabelMAP\(integral\): (?<map>\d\.\d{3})\r?$",
            RegexOptions.Multiline);
        Assert.That(evals, Has.Count.EqualTo(2), log);
        foreach (Match m in evals) Assert.That(Number(m, "loss"), Is.EqualTo(Number(m, "term")), "a single loss is the total");
        var best = Regex.Match(log, @"best MultiLabelMAP (?<map>\d\.\d{5}) at epoch \d");
        Assert.That(best.Success, Is.True, log);
        Assert.That(Number(best, "map"), Is.EqualTo(evals.Max(m => Number(m, "map"))).Within(5e-4));
        // The head is saved under PaddleClas's names: the ML-Decoder in fc's place, no fc.weight.
        byte[] file = File.ReadAllBytes(Path.Combine(dir, "best_model.safetensors"));
        string header = System.Text.Encoding.UTF8.GetString(file, 8, (int)BitConverter.ToInt64(file, 0));
        Assert.That(header, Does.Contain("\"fc.group_conv.weight\"").And.Contain("\"fc.decoder.layers.0.cross_attn.q_proj.weight\"").And.Not.Contain("\"fc.weight\""));
    }

    [Test]
    public void use_multilabel_on_a_single_label_list_is_one_line_naming_the_data_set_key()
    {
        var run = CliRun.Of(["train", .. _demo.Overrides(_demo.NewOutput(), epochs: 1), "-o", "Global.use_multilabel=True"]);

        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.Error.TrimEnd(), Does.Not.Contain("\n"));
        Assert.That(run.Error, Does.Contain("DataLoader.Train.dataset.name: Global.use_multilabel is True, but this data set gives one class id per image; use MultiLabelDataset"));
    }
    [Test]
    public void Attribute_distillation_checks_the_teacher_by_MultiLabelMAP_and_sums_the_ratio_weighted_losses()
    {
        // PaddleClas's PULC attribute distillation recipe (DistillationMultiLabelLoss + DistillationDMLLoss with weight_ratio) on the demo config.
        string config = Path.Combine(_demo.Root, "attr_distill.yaml");
        string text = File.ReadAllText(AttributeConfig);
        text = text[..text.IndexOf("Arch:", StringComparison.Ordinal)] + """
            Arch:
              name: DistillationModel
              class_num: &class_num 3
              freeze_params_list: [True, False]
              models:
                - Teacher:
                    name: PPLCNet_x0_25
                    class_num: *class_num
                - Student:
                    name: PPLCNet_x0_25
                    class_num: *class_num
              infer_model_name: Student

            Loss:
              Train:
                - DistillationMultiLabelLoss:
                    weight: 1.0
                    model_names: ["Student"]
                    weight_ratio: True
                    size_sum: True
                - DistillationDMLLoss:
                    weight: 1.0
                    weight_ratio: True
                    model_name_pairs: [["Student", "Teacher"]]
              Eval:
                - MultiLabelLoss:
                    weight: 1.0
                    weight_ratio: True
                    size_sum: True

            """ + text[text.IndexOf("Optimizer:", StringComparison.Ordinal)..];
        File.WriteAllText(config, text);
        string output = _demo.NewOutput();

        var train = CliRun.Of(["train", .. Overrides(config, output, "-o", "Global.epochs=1",
            "-o", "DataLoader.Train.dataset.transform_ops.1.ResizeImage.size=[32,32]", "-o", "DataLoader.Train.dataset.transform_ops.2.Padv2.size=[36,36]",
            "-o", "DataLoader.Train.dataset.transform_ops.3.RandomCropImage.size=[32,32]", "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.size=[32,32]")]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string log = File.ReadAllText(Path.Combine(output, "DistillationModel", "train.log"));
        Assert.That(log, Does.Match(@"frozen model Teacher before training: MultiLabelMAP \d\.\d{5} on the eval set \(8 images\)"));
        var avg = Regex.Match(log, @"\[Train\]\[Epoch 1/1\]\[Avg\]MultiLabelLoss_Student: (?<mll>\d+\.\d{5}), DMLLoss_Student_Teacher_0: (?<dml>\d+\.\d{5}), loss: (?<loss>\d+\.\d{5})");
        Assert.That(avg.Success, Is.True, log);
        Assert.That(Number(avg, "loss"), Is.EqualTo(Number(avg, "mll") + Number(avg, "dml")).Within(2e-5));
        Assert.That(log, Does.Match(@"\[Eval\]\[Epoch 1\]\[Avg\]evalres: ma: \d\.\d{5}"));
    }
    [Test]
    public void The_train_benchmark_runs_a_label_ratio_config_on_the_loaders_own_targets()
    {
        var run = CliRun.Of(["benchmark", "train", .. Overrides(AttributeConfig, _demo.NewOutput(),
            "-o", "DataLoader.Train.dataset.transform_ops.1.ResizeImage.size=[32,32]", "-o", "DataLoader.Train.dataset.transform_ops.2.Padv2.size=[36,36]",
            "-o", "DataLoader.Train.dataset.transform_ops.3.RandomCropImage.size=[32,32]"), "--iters", "2", "--warmup", "1"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Output, Does.Contain("\"phase\":\"synthetic\"").And.Contain("\"phase\":\"real\""));
    }
}
