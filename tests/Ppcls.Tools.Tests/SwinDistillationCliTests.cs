using System.Globalization;
using System.Text.RegularExpressions;
using Ppcls.Core.Checkpoint;

namespace Ppcls.Tools.Tests;

/// <summary>
/// Swin Transformer on either side of the quick-start DistillationModel (GT CE + KL divergence, frozen
/// Teacher), through the real CLI on the 32 px demo set (Swin pads the 8x8 patch grid to its 7x7
/// windows): a Swin teacher trained here teaches PP-LCNet, and a Swin student learns from a PP-LCNet
/// teacher; each Student then evaluates and exports, the export checked by ONNX Runtime.
/// </summary>
[NonParallelizable]
public sealed class SwinDistillationCliTests
{
    const string Swin = "SwinTransformer_tiny_patch4_window7_224";
    const string Lcnet = "PPLCNet_x0_25";
    static readonly string DistillConfig = Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_distill_demo.yaml");
    const int Epochs = 2;

    DemoData _demo = null!;
    Teacher _swin = null!;
    Teacher _lcnet = null!;

    sealed record Teacher(string Name, string Weights, string Top1);

    [OneTimeSetUp]
    public void TrainTeachers()
    {
        _demo = new DemoData();
        _swin = Train(Swin, epochs: 1, "-o", "Optimizer.lr.learning_rate=0.003");
        _lcnet = Train(Lcnet, epochs: 2);
    }

    [OneTimeTearDown]
    public void RemoveData() => _demo.Dispose();

    Teacher Train(string arch, int epochs, params string[] more)
    {
        string output = _demo.NewOutput();
        var run = CliRun.Of(["train", .. _demo.Overrides(output, epochs), "-o", $"Arch.name={arch}", .. more]);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string top1 = Regex.Match(File.ReadAllText(Path.Combine(output, arch, "train.log")), @"best top1 (\d\.\d{5})").Groups[1].Value;
        return new Teacher(arch, Path.Combine(output, arch, "best_model"), top1);
    }

    /// <summary>The demo data on the distillation config: <paramref name="teacher"/> frozen from its file, a fresh <paramref name="student"/>, 32 px throughout.</summary>
    string[] Distill(string output, Teacher teacher, string student, params string[] more) =>
    [
        .. _demo.Overrides(output, epochs: Epochs).Skip(2).Select(o => o.Replace(".TopkAcc.", ".DistillationTopkAcc.", StringComparison.Ordinal)), "-c", DistillConfig,
        "-o", $"Arch.models.0.Teacher.name={teacher.Name}", "-o", $"Arch.models.0.Teacher.pretrained={teacher.Weights}", "-o", $"Arch.models.1.Student.name={student}",
        "-o", "Arch.models.0.Teacher.class_num=4", "-o", "Arch.models.1.Student.class_num=4", "-o", "Optimizer.lr.learning_rate=0.003", "-o", "Global.image_shape=[3,32,32]",
        "-o", $"Infer.infer_imgs={_demo.Data}/images", "-o", "Infer.transforms.1.ResizeImage.resize_short=36", "-o", "Infer.transforms.2.CropImage.size=32",
        "-o", $"Infer.PostProcess.class_id_map_file={_demo.Data}/label_list.txt",
        .. more,
    ];

    /// <summary>
    /// Trains <paramref name="student"/> from <paramref name="teacher"/> into <paramref name="output"/>: the
    /// teacher scores before training what it scored when it was trained, and every epoch logs both loss
    /// terms, finite, summing to the total. Returns the run's folder.
    /// </summary>
    string AssertDistils(string output, Teacher teacher, string student)
    {
        var train = CliRun.Of(["train", .. Distill(output, teacher, student)]);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string dir = Path.Combine(output, "DistillationModel");
        string log = File.ReadAllText(Path.Combine(dir, "train.log"));
        Assert.That(log, Does.Contain($"frozen model Teacher before training: top1 {teacher.Top1} on the eval set (8 images)"));

        var epochs = Regex.Matches(log, @"\[Train\]\[Epoch \d/\d\]\[Avg\]CELoss_Student: (\S+), loss_kldiv_Student_Teacher: (\S+), loss: (\S+), top1:");
        Assert.That(epochs, Has.Count.EqualTo(Epochs), log);
        foreach (Match epoch in epochs)
        {
            double[] terms = [.. epoch.Groups.Values.Skip(1).Select(g => double.Parse(g.Value, CultureInfo.InvariantCulture))];
            Assert.That(terms.All(double.IsFinite), Is.True, epoch.Value);
            Assert.That(terms, Is.All.GreaterThan(0), epoch.Value);
            Assert.That(terms[2], Is.EqualTo(terms[0] + terms[1]).Within(2e-5), epoch.Value);
        }
        return dir;
    }

    /// <summary>Eval of the run's best_model gives its best top1; export writes the Student, agreeing with ONNX Runtime on every check.</summary>
    void AssertStudentEvaluatesAndExports(string output, Teacher teacher, string student)
    {
        string dir = Path.Combine(output, "DistillationModel");
        string[] best = ["-o", $"Global.pretrained_model={Path.Combine(dir, "best_model")}"];
        string bestTop1 = Regex.Match(File.ReadAllText(Path.Combine(dir, "train.log")), @"best top1 (\d\.\d{5})").Groups[1].Value;

        var eval = CliRun.Of(["eval", .. Distill(output, teacher, student, best)]);
        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        Assert.That(File.ReadAllText(Path.Combine(dir, "eval.log")),
            Does.Match(@"\[Eval\]\[Epoch 0\]\[Avg\]CELoss: [\d.]+, loss: [\d.]+, top1: " + Regex.Escape(bestTop1)), "eval of best_model gives its best top1");

        string inference = Path.Combine(output, "inference");
        var export = CliRun.Of(["export", .. Distill(output, teacher, student, [.. best, "-o", $"Global.save_inference_dir={inference}"])]);
        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        string exportLog = File.ReadAllText(Path.Combine(dir, "export.log"));
        Assert.That(exportLog, Does.Contain("Arch.infer_model_name: exporting Student of the DistillationModel"));
        ExportLogChecks.AssertAllPass(exportLog, atLeast: 3);
        Assert.That(File.Exists(Path.Combine(inference, "inference.onnx")), Is.True);
    }

    [Test]
    public void A_frozen_Swin_teacher_loaded_from_its_file_teaches_a_PPLCNet_student_that_evaluates_and_exports()
    {
        string output = _demo.NewOutput();
        string dir = AssertDistils(output, _swin, Lcnet);

        // The Teacher in the saved DistillationModel is the Swin file, unchanged by training.
        var teacher = SafeTensorsFile.Read(_swin.Weights + ".safetensors").Tensors;
        var saved = SafeTensorsFile.Read(Path.Combine(dir, "best_model.safetensors")).Tensors;
        Assert.That(saved.Keys.Where(k => k.StartsWith("Teacher.", StringComparison.Ordinal)).Order(), Is.EqualTo(teacher.Keys.Select(k => "Teacher." + k).Order()));
        foreach (var (key, value) in teacher)
            Assert.That(saved["Teacher." + key].allclose(value, 0, 0), Is.True, $"Teacher.{key} differs from the Swin file");

        AssertStudentEvaluatesAndExports(output, _swin, Lcnet);
    }

    [Test]
    public void A_Swin_student_learns_from_a_PPLCNet_teacher_and_evaluates_infers_and_exports()
    {
        string output = _demo.NewOutput();
        string dir = AssertDistils(output, _lcnet, Swin);
        Assert.That(SafeTensorsFile.Read(Path.Combine(dir, "best_model.safetensors")).Tensors.Keys, Does.Contain("Student.layers.0.blocks.0.attn.relative_position_bias_table"));

        var infer = CliRun.Of(["infer", .. Distill(output, _lcnet, Swin, "-o", $"Global.pretrained_model={Path.Combine(dir, "best_model")}")]);
        Assert.That(infer.ExitCode, Is.EqualTo(0), infer.Error);
        string inferLog = File.ReadAllText(Path.Combine(dir, "infer.log"));
        Assert.That(inferLog, Does.Contain("infer done: 40 image(s) classified"));
        // The trained Swin tells the images apart (a Swin whose Linear weights start constant gives every image the same scores).
        Assert.That(Regex.Matches(inferLog, @"'scores': \[[^\]]*\]").Select(m => m.Value).Distinct().Count(), Is.GreaterThan(1), inferLog);

        AssertStudentEvaluatesAndExports(output, _lcnet, Swin);
    }
}
