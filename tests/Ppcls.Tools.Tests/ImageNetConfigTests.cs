using Ppcls.Models;

namespace Ppcls.Tools.Tests;

/// <summary>
/// The shipped PaddleClas recipes (configs/ImageNet/&lt;Family&gt;/&lt;Model&gt;.yaml): one per model in the
/// zoo, each passing `train --check` with only the demo-set overrides (data paths, class_num), and
/// one real short run per family on a tiny generated set at 32x32.
/// </summary>
[NonParallelizable]
public sealed class ImageNetConfigTests
{
    static readonly string ConfigRoot = Path.Combine(CliRun.RepoRoot, "configs", "ImageNet");

    string _root = null!;
    string _data = null!;
    string _output = null!;

    [OneTimeSetUp]
    public void MakeData()
    {
        _root = Directory.CreateTempSubdirectory("ppcls-configs-test-").FullName;
        _data = Path.Combine(_root, "demo");
        var run = CliRun.Of("dataset", "make-demo", _data, "--classes", "10", "--per-class", "4", "--size", "32", "--seed", "2");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
    }

    [OneTimeTearDown]
    public void RemoveData() => Directory.Delete(_root, recursive: true);

    [SetUp]
    public void NewOutput() => _output = Directory.CreateDirectory(Path.Combine(_root, "out-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public static IEnumerable<string> ConfigFiles() =>
        Directory.GetFiles(ConfigRoot, "*.yaml", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(ConfigRoot, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);

    /// <summary>What the README's demo line overrides: the data paths and the class count.</summary>
    string[] DemoOverrides(string config) =>
    [
        "-c", Path.Combine(ConfigRoot, config),
        "-o", $"Global.output_dir={_output}",
        "-o", $"DataLoader.Train.dataset.image_root={_data}", "-o", $"DataLoader.Train.dataset.cls_label_path={_data}/train_list.txt",
        "-o", $"DataLoader.Eval.dataset.image_root={_data}", "-o", $"DataLoader.Eval.dataset.cls_label_path={_data}/val_list.txt",
        "-o", "Arch.class_num=10",
        // SSLD stage 2 starts from stage 1's checkpoint, which a check run does not have.
        .. config.EndsWith("_ssld_stage2.yaml", StringComparison.Ordinal) ? new[] { "-o", "Arch.models.1.Student.pretrained=False" } : [],
    ];

    static string ArchName(string config) =>
        File.ReadLines(Path.Combine(ConfigRoot, config)).SkipWhile(l => l != "Arch:").Skip(1).First().Split(':')[1].Trim().Trim('"');

    static string OptimizerName(string config) =>
        File.ReadLines(Path.Combine(ConfigRoot, config)).SkipWhile(l => l != "Optimizer:").Skip(1).First().Split(':')[1].Trim().Trim('"');

    string TrainLog(string config) => File.ReadAllText(Path.Combine(_output, ArchName(config), "train.log"));

    [Test]
    public void Every_model_in_the_zoo_has_its_ImageNet_config()
    {
        // The PP-ShiTu backbones come with PaddleClas's recognition configs (GeneralRecognition, GeneralRecognitionV2), not ImageNet
        // ones; PPLCNetV3_base_rec is PaddleOCR's text-recognition backbone, for 48x320 line images.
        string[] recognitionOnly = ["PPLCNet_x2_5_Tanh", "PPLCNetV2_base_ShiTu", "PPLCNetV3_base_rec"];
        var missing = ModelZoo.CreateRegistry().Entries
            .Where(e => !recognitionOnly.Contains(e.Name))
            .Select(e => $"{e.Family}/{e.Name}.yaml")
            .Where(f => !File.Exists(Path.Combine(ConfigRoot, f)))
            .ToList();

        Assert.That(missing, Is.Empty, "models without configs/ImageNet/<Family>/<Model>.yaml");
        Assert.That(ConfigFiles().Count(), Is.EqualTo(47 + 2 + 3), "47 models plus PP-LCNet x1.0's two 'ultra' recipes and three SSLD distillation recipes");
    }

    [TestCaseSource(nameof(ConfigFiles))]
    public void The_config_passes_train_check_with_the_demo_overrides(string config)
    {
        var run = CliRun.Of(["train", .. DemoOverrides(config), "--check"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string log = TrainLog(config);
        Assert.That(log, Does.Contain($"model {ArchName(config)} built with"));
        Assert.That(log, Does.Contain($"check passed: loaders, losses, metrics, LR schedule (Cosine) and optimizer ({OptimizerName(config)}) are valid; eval: 10 images"));
        Assert.That(log, Does.Not.Contain("distinct labels"), "class_num matches the data");
        Assert.That(log, Does.Not.Contain("[Train]"));
    }

    // One real run per family: 32x32 images, batches of 8 (PP-LCNetV2: scales 32 and 64), one epoch.
    static readonly string[] Small =
    [
        "-o", "DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=32",
        "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.resize_short=36",
        "-o", "DataLoader.Eval.dataset.transform_ops.2.CropImage.size=32",
        "-o", "DataLoader.Eval.sampler.batch_size=8",
    ];

    static readonly string[] Batch8 = ["-o", "DataLoader.Train.sampler.batch_size=8"];
    static readonly string[] TimmSize32 = ["-o", "DataLoader.Train.dataset.transform_ops.3.TimmAutoAugment.img_size=32"];

    public static IEnumerable<TestCaseData> FamilyRuns()
    {
        yield return new TestCaseData("PPLCNet/PPLCNet_x0_25.yaml", Batch8);
        yield return new TestCaseData("PPLCNetV3/PPLCNetV3_x0_35.yaml", Batch8);
        yield return new TestCaseData("PPLCNetV2/PPLCNetV2_small.yaml", new[] { "-o", "DataLoader.Train.sampler.scales=[32,64]", "-o", "DataLoader.Train.sampler.first_bs=8" });
        yield return new TestCaseData("PPHGNet/PPHGNet_tiny.yaml", Batch8.Concat(TimmSize32).ToArray());
        yield return new TestCaseData("PPHGNetV2/PPHGNetV2_B0.yaml", Batch8.Concat(TimmSize32).ToArray());
        yield return new TestCaseData("MobileNetV2/MobileNetV2_x0_25.yaml", Batch8);
        yield return new TestCaseData("ResNet/ResNet18_vd.yaml", Batch8);
        // Swin at 32x32: an 8x8 patch grid, padded to two 7x7 windows (shifted) in the first stage, one window after.
        yield return new TestCaseData("SwinTransformer/SwinTransformer_tiny_patch4_window7_224.yaml", Batch8.Concat(TimmSize32).ToArray());
    }

    [TestCaseSource(nameof(FamilyRuns))]
    public void A_short_run_on_the_demo_set_trains_evaluates_and_writes_latest(string config, string[] sizeAndBatch)
    {
        // PaddleClas's `pretrained: True` reads the ImageNet file from PPCLS_HOME, which a test machine does not have.
        string[] randomStart = File.ReadAllText(Path.Combine(ConfigRoot, config)).Contains("pretrained: True") ? ["-o", "Arch.pretrained=False"] : [];
        var run = CliRun.Of(["train", .. DemoOverrides(config), .. Small, .. sizeAndBatch, .. randomStart,
            "-o", "Global.epochs=1", "-o", "Global.seed=3", "-o", "Global.print_batch_step=1"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string log = TrainLog(config);
        // (With mixup/cutmix, PP-HGNet's training step has soft labels and no accuracy, as in PaddleClas.)
        Assert.That(log, Does.Match(@"\[Train\]\[Epoch 1/1\]\[Avg\]CELoss: \d+\.\d{5}, loss: \d+\.\d{5}"));
        Assert.That(log, Does.Match(@"\[Eval\]\[Epoch 1\]\[Avg\]CELoss: [\d.]+, loss: [\d.]+, top1: \d\.\d{5}, top5: \d\.\d{5}"));
        Assert.That(log, Does.Contain("training done: 1 epoch(s)"));
        string modelDir = Path.Combine(_output, ArchName(config));
        foreach (var file in new[] { "latest.safetensors", "latest.state.json", "best_model.safetensors" })
            Assert.That(File.Exists(Path.Combine(modelDir, file)), Is.True, file);
    }
}
