using System.Globalization;
using System.Text.RegularExpressions;

namespace Ppcls.Tools.Tests;

/// <summary>
/// The real CLI on the demo set with the two distillation recipes of PaddleClas's ImageNet/Distillation
/// configs: SSLD from a frozen ResNet18_vd teacher trained here (labels + DML on the logits), and UDML
/// feature distillation (return_patterns, DistillationDistanceLoss on `blocks5`); each then evaluates,
/// infers and exports its Student, the export checked by ONNX Runtime.
/// </summary>
[NonParallelizable]
public sealed class TeacherDistillationCliTests
{
    static readonly string SsldConfig = Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_ssld_resnet18_vd_demo.yaml");
    static readonly string UdmlConfig = Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_udml_demo.yaml");
    const int Epochs = 4;

    DemoData _demo = null!;
    string _teacher = null!;
    string _teacherTop1 = null!;

    [OneTimeSetUp]
    public void TrainTeacher()
    {
        _demo = new DemoData();
        string output = _demo.NewOutput();
        var run = CliRun.Of(["train", .. _demo.Overrides(output, epochs: 2), "-o", "Arch.name=ResNet18_vd", "-o", "Optimizer.lr.learning_rate=0.005"]);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string log = File.ReadAllText(Path.Combine(output, "ResNet18_vd", "train.log"));
        _teacherTop1 = Regex.Match(log, @"best top1 (\d\.\d{5})").Groups[1].Value;
        _teacher = Path.Combine(output, "ResNet18_vd", "best_model");
    }

    [OneTimeTearDown]
    public void RemoveData() => _demo.Dispose();

    /// <summary>The demo data, a low learning rate (batches of 8 on 32 px images), and the Infer section on the demo images.</summary>
    string[] With(string config, string output, params string[] more) =>
    [
        .. _demo.Overrides(output, epochs: Epochs).Skip(2).Select(o => o.Replace(".TopkAcc.", ".DistillationTopkAcc.", StringComparison.Ordinal)), "-c", config,
        "-o", "Arch.models.0.Teacher.class_num=4", "-o", "Arch.models.1.Student.class_num=4", "-o", "Optimizer.lr.learning_rate=0.003", "-o", "Global.image_shape=[3,32,32]",
        "-o", $"Infer.infer_imgs={_demo.Data}/images", "-o", "Infer.transforms.1.ResizeImage.resize_short=36", "-o", "Infer.transforms.2.CropImage.size=32",
        "-o", $"Infer.PostProcess.class_id_map_file={_demo.Data}/label_list.txt",
        .. more,
    ];

    /// <summary>Each epoch's average of every logged loss term, in log order, and of the total.</summary>
    static List<Dictionary<string, double>> EpochAverages(string log)
    {
        var epochs = Regex.Matches(log, @"\[Train\]\[Epoch \d+/\d+\]\[Avg\](?<terms>.*?), top1:").Select(m =>
            m.Groups["terms"].Value.Split(", ").Select(t => t.Split(": ")).ToDictionary(t => t[0], t => double.Parse(t[1], CultureInfo.InvariantCulture))).ToList();
        Assert.That(epochs, Has.Count.EqualTo(Epochs), log);
        return epochs;
    }

    /// <summary>The total is the sum of the terms every epoch, and it is lower after the last epoch than after the first.</summary>
    static void AssertLossDecreases(List<Dictionary<string, double>> epochs, string[] terms)
    {
        foreach (var epoch in epochs)
        {
            Assert.That(epoch.Keys, Is.EqualTo(terms.Append("loss")));
            Assert.That(epoch["loss"], Is.EqualTo(terms.Sum(t => epoch[t])).Within(5e-5));
        }
        TestContext.Out.WriteLine($"loss by epoch: {string.Join(", ", epochs.Select(e => e["loss"]))}");
        Assert.That(epochs[^1]["loss"], Is.LessThan(epochs[0]["loss"]), "the training loss decreases");
    }

    /// <summary>Eval, infer and export of the trained Student from <paramref name="output"/>'s best_model.</summary>
    void EvalInferExport(string config, string output, params string[] more)
    {
        string dir = Path.Combine(output, "DistillationModel");
        string weights = Path.Combine(dir, "best_model");
        string bestTop1 = Regex.Match(File.ReadAllText(Path.Combine(dir, "train.log")), @"best top1 (\d\.\d{5})").Groups[1].Value;

        var eval = CliRun.Of(["eval", .. With(config, output, [.. more, "-o", $"Global.pretrained_model={weights}"])]);
        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        Assert.That(File.ReadAllText(Path.Combine(dir, "eval.log")),
            Does.Match(@"\[Eval\]\[Epoch 0\]\[Avg\]CELoss: [\d.]+, loss: [\d.]+, top1: " + Regex.Escape(bestTop1)), "eval of best_model gives its best top1");

        var infer = CliRun.Of(["infer", .. With(config, output, [.. more, "-o", $"Global.pretrained_model={weights}"])]);
        Assert.That(infer.ExitCode, Is.EqualTo(0), infer.Error);
        string inferLog = File.ReadAllText(Path.Combine(dir, "infer.log"));
        Assert.That(inferLog, Does.Contain("infer done: 40 image(s) classified"));
        Assert.That(Regex.Matches(inferLog, @"'label_names': \['(red_circle|green_square|blue_triangle|yellow_cross)'").Count, Is.EqualTo(40));

        string inference = Path.Combine(output, "inference");
        var export = CliRun.Of(["export", .. With(config, output, [.. more, "-o", $"Global.pretrained_model={weights}", "-o", $"Global.save_inference_dir={inference}"])]);
        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        string exportLog = File.ReadAllText(Path.Combine(dir, "export.log"));
        Assert.That(exportLog, Does.Contain("Arch.infer_model_name: exporting Student of the DistillationModel"));
        ExportLogChecks.AssertAllPass(exportLog, atLeast: 3);
        Assert.That(File.Exists(Path.Combine(inference, "inference.onnx")), Is.True);
        Assert.That(File.ReadAllText(Path.Combine(inference, "inference.yml")), Does.Contain("model_name: DistillationModel"), "named by Arch.name, as PaddleClas writes it");
    }

    [Test]
    public void SSLD_from_a_frozen_ResNet18_vd_teacher_trains_the_student_and_evaluates_infers_and_exports_it()
    {
        string output = _demo.NewOutput();
        string[] teacher = ["-o", $"Arch.models.0.Teacher.pretrained={_teacher}"];
        var train = CliRun.Of(["train", .. With(SsldConfig, output, teacher)]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string log = File.ReadAllText(Path.Combine(output, "DistillationModel", "train.log"));
        // The teacher loaded is the one trained above: it scores its own best top1 on the eval set.
        Assert.That(log, Does.Contain($"frozen model Teacher before training: top1 {_teacherTop1} on the eval set (8 images)"));
        AssertLossDecreases(EpochAverages(log), ["CELoss_Student", "DMLLoss_Student_Teacher_0"]);

        EvalInferExport(SsldConfig, output, teacher);
    }

    [Test]
    public void UDML_feature_distillation_reads_blocks5_of_both_models_and_evaluates_infers_and_exports_the_student()
    {
        string output = _demo.NewOutput();
        var train = CliRun.Of(["train", .. With(UdmlConfig, output)]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string log = File.ReadAllText(Path.Combine(output, "DistillationModel", "train.log"));
        var epochs = EpochAverages(log);
        AssertLossDecreases(epochs, ["CELoss_Student", "CELoss_Teacher", "DMLLoss_Student_Teacher_0", "loss_l2_loss_l2_0"]);
        Assert.That(epochs.Select(e => e["loss_l2_loss_l2_0"]), Is.All.GreaterThan(0), "the feature maps of two differently initialised models differ");

        EvalInferExport(UdmlConfig, output);
    }
}
