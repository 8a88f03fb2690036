using System.Globalization;
using System.Text.RegularExpressions;
using Ppcls.Core.Checkpoint;
using Ppcls.TestSupport;

namespace Ppcls.Tools.Tests;

/// <summary>
/// The real CLI distils: a teacher trained here, then the quick-start distillation config (frozen
/// teacher checked before training, distillation losses logged by name), then export of the student.
/// </summary>
[NonParallelizable]
public sealed class DistillationCliTests
{
    static readonly string DistillConfig = Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_distill_demo.yaml");
    static readonly string SsldConfig = Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_ssld_demo.yaml");

    DemoData _demo = null!;
    string _output = null!;
    string _teacher = null!;
    double _teacherTop1;

    [OneTimeSetUp]
    public void TrainTeacher()
    {
        _demo = new DemoData();
        _output = _demo.NewOutput();
        var run = CliRun.Of(["train", .. _demo.Overrides(_output, epochs: 2)]);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string log = File.ReadAllText(Path.Combine(_output, "PPLCNet_x0_25", "train.log"));
        _teacherTop1 = double.Parse(Regex.Match(log, @"best top1 (\d\.\d{5})").Groups[1].Value, CultureInfo.InvariantCulture);
        _teacher = Path.Combine(_output, "PPLCNet_x0_25", "best_model");
    }

    [OneTimeTearDown]
    public void RemoveData() => _demo.Dispose();

    /// <summary>The demo overrides on the distillation config, with a PPLCNet_x0_25 teacher from <see cref="TrainTeacher"/>.</summary>
    string[] Distill(string output, params string[] more) => DistillWith(DistillConfig, output, more);

    string[] DistillWith(string config, string output, params string[] more) =>
    [
        .. _demo.Overrides(output, epochs: 1).Skip(2).Select(o => o.Replace(".TopkAcc.", ".DistillationTopkAcc.", StringComparison.Ordinal)), "-c", config,
        "-o", "Arch.models.0.Teacher.name=PPLCNet_x0_25", "-o", $"Arch.models.0.Teacher.pretrained={_teacher}",
        "-o", "Arch.models.0.Teacher.class_num=4", "-o", "Arch.models.1.Student.class_num=4",
        .. more,
    ];

    [Test]
    public void Distillation_checks_the_teacher_trains_the_student_and_exports_it()
    {
        string output = _demo.NewOutput();
        var train = CliRun.Of(["train", .. Distill(output)]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string log = File.ReadAllText(Path.Combine(output, "DistillationModel", "train.log"));
        // The frozen teacher scores on the eval set what it scored at its best epoch when it was trained.
        Assert.That(log, Does.Contain($"frozen model Teacher before training: top1 {_teacherTop1.ToString("F5", CultureInfo.InvariantCulture)} on the eval set (8 images)"));
        var avg = Regex.Match(log, @"\[Train\]\[Epoch 1/1\]\[Avg\]CELoss_Student: (\d+\.\d{5}), loss_kldiv_Student_Teacher: (\d+\.\d{5}), loss: (\d+\.\d{5}), top1: \d\.\d{5}");
        Assert.That(avg.Success, Is.True, log);
        double Value(int group) => double.Parse(avg.Groups[group].Value, CultureInfo.InvariantCulture);
        Assert.That(Value(3), Is.EqualTo(Value(1) + Value(2)).Within(2e-5));
        Assert.That(log, Does.Match(@"\[Eval\]\[Epoch 1\]\[Avg\]CELoss: [\d.]+, loss: [\d.]+, top1: \d\.\d{5}, top2: \d\.\d{5}"));

        string inference = Path.Combine(output, "inference");
        var export = CliRun.Of(["export", .. Distill(output, "-o", $"Global.pretrained_model={Path.Combine(output, "DistillationModel", "best_model")}",
            "-o", $"Global.save_inference_dir={inference}", "-o", $"Infer.PostProcess.class_id_map_file={_demo.Data}/label_list.txt")]);

        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        string exportLog = File.ReadAllText(Path.Combine(output, "DistillationModel", "export.log"));
        Assert.That(exportLog, Does.Contain("Arch.infer_model_name: exporting Student of the DistillationModel"));
        Assert.That(exportLog, Does.Contain("Export succeeded!"));
        Assert.That(File.Exists(Path.Combine(inference, "inference.onnx")), Is.True);
    }

    [Test]
    public void With_EMA_the_average_follows_the_student_keeps_the_teacher_and_evaluates_and_exports_as_the_student()
    {
        string output = _demo.NewOutput();
        var train = CliRun.Of(["train", .. Distill(output, "-o", "EMA.decay=0.5")]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string dir = Path.Combine(output, "DistillationModel");
        string trainLog = File.ReadAllText(Path.Combine(dir, "train.log"));
        string bestTop1 = Regex.Match(trainLog, @"best top1 (\d\.\d{5})").Groups[1].Value;
        var teacher = SafeTensorsFile.Read(_teacher + ".safetensors").Tensors;
        var model = SafeTensorsFile.Read(Path.Combine(dir, "best_model.safetensors")).Tensors;
        var ema = SafeTensorsFile.Read(Path.Combine(dir, "best_model.ema.safetensors")).Tensors;
        Assert.That(ema.Keys.Order(), Is.EqualTo(model.Keys.Order()));
        foreach (var (key, value) in teacher)
            Assert.That(ema["Teacher." + key].allclose(value, 0, 0), Is.True, $"Teacher.{key} changed in the EMA");
        // Four steps at decay 0.5: the average lags the trained student, so their weights differ.
        Assert.That(ema["Student.fc.weight"].allclose(model["Student.fc.weight"]), Is.False);

        string emaWeights = Path.Combine(dir, "best_model.ema.safetensors");
        var eval = CliRun.Of(["eval", .. Distill(output, "-o", $"Global.pretrained_model={emaWeights}")]);

        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        // Training evaluated the EMA model (its Student); eval of the saved average gives the same top1.
        Assert.That(File.ReadAllText(Path.Combine(dir, "eval.log")), Does.Match(@"\[Eval\]\[Epoch 0\]\[Avg\]CELoss: [\d.]+, loss: [\d.]+, top1: " + Regex.Escape(bestTop1)));

        string inference = Path.Combine(output, "inference");
        var export = CliRun.Of(["export", .. Distill(output, "-o", $"Global.pretrained_model={emaWeights}",
            "-o", $"Global.save_inference_dir={inference}", "-o", $"Infer.PostProcess.class_id_map_file={_demo.Data}/label_list.txt")]);

        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        Assert.That(File.ReadAllText(Path.Combine(dir, "export.log")), Does.Contain("Arch.infer_model_name: exporting Student of the DistillationModel"));
        Assert.That(File.Exists(Path.Combine(inference, "inference.onnx")), Is.True);
    }

    [Test]
    public void A_non_finite_distillation_loss_stops_the_run_naming_the_epoch_and_what_to_do()
    {
        string output = _demo.NewOutput();
        var run = CliRun.Of(["train", .. Distill(output, "-o", "Global.epochs=2", "-o", "Optimizer.lr.learning_rate=1e30", "-o", "Optimizer.lr.warmup_epoch=0")]);

        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.Error, Does.Match(@"the training loss became (NaN|-?Infinity|∞|-∞) at epoch \d, iteration \d"));
        Assert.That(run.Error, Does.Contain("Lower Optimizer.lr.learning_rate or check the data, then resume with -o Global.checkpoints=<that checkpoint>"));
        Assert.That(File.Exists(Path.Combine(output, "DistillationModel", "best_model.safetensors")), Is.False);
    }

    [Test]
    public void A_random_teacher_is_reported_near_chance_before_training()
    {
        string output = _demo.NewOutput();
        var run = CliRun.Of(["train", .. Distill(output, "-o", "Arch.models.0.Teacher.pretrained=False")]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string log = File.ReadAllText(Path.Combine(output, "DistillationModel", "train.log"));
        var line = Regex.Match(log, @"frozen model Teacher before training: top1 (\d\.\d{5}) on the eval set \(8 images\)");
        Assert.That(line.Success, Is.True, log);
        Assert.That(double.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture), Is.LessThan(0.5));
        Assert.That(log, Does.Contain($"frozen model Teacher is near chance (top1 {line.Groups[1].Value}, chance 0.25000): it teaches nothing useful"));
    }

    [Test]
    public void The_SSLD_demo_config_learns_from_the_teacher_on_image_paths_alone()
    {
        string output = _demo.NewOutput();
        string list = Path.Combine(output, "unlabeled.txt");
        File.WriteAllLines(list, File.ReadLines(Path.Combine(_demo.Data, "train_list.txt")).Select(l => l.Split(' ')[0]));

        var run = CliRun.Of(["train", .. DistillWith(SsldConfig, output, "-o", $"DataLoader.Train.dataset.cls_label_path={list}")]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string log = File.ReadAllText(Path.Combine(output, "DistillationModel", "train.log"));
        // No labels: the one loss is the teacher's, and no train accuracy is reported.
        Assert.That(log, Does.Match(@"\[Train\]\[Epoch 1/1\]\[Avg\]CELoss_Student_Teacher: (\d+\.\d{5}), loss: \1, resident_memory"));
        Assert.That(log, Does.Match(@"\[Eval\]\[Epoch 1\]\[Avg\]CELoss: [\d.]+, loss: [\d.]+, top1: \d\.\d{5}, top2: \d\.\d{5}"));
    }

    [Test]
    public void An_unlabeled_list_with_a_loss_that_reads_labels_is_an_error_naming_both()
    {
        string output = _demo.NewOutput();
        string list = Path.Combine(output, "unlabeled.txt");
        File.WriteAllLines(list, File.ReadLines(Path.Combine(_demo.Data, "train_list.txt")).Select(l => l.Split(' ')[0]));

        var run = CliRun.Of(["train", .. Distill(output, "-o", $"DataLoader.Train.dataset.cls_label_path={list}"), "--check"]);

        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.Error, Does.Contain($"Loss.Train: DistillationGTCELoss reads labels, but DataLoader.Train.dataset.cls_label_path ({list}) lists images without labels"));
    }
}
