using Ppcls.Core.Checkpoint;
using static TorchSharp.torch;

namespace Ppcls.Tools.Tests;

/// <summary>
/// The README's fine-tuning walk through the real CLI: weights trained here and saved as
/// .pdparams, a folder of class sub-folders split into lists, fine-tuning to another class
/// count with the backbone frozen, eval, export, and `weights convert` both ways.
/// </summary>
[NonParallelizable]
public sealed class FineTuneTests
{
    DemoData _demo = null!;

    [OneTimeSetUp]
    public void MakeData() => _demo = new DemoData();

    [OneTimeTearDown]
    public void RemoveData() => _demo.Dispose();

    static bool Same(Tensor x, Tensor y) => x.dtype == y.dtype && x.shape.SequenceEqual(y.shape) && x.eq(y).all().item<bool>();

    /// <summary>DIR/&lt;class&gt;/*.png from the demo images of the first <paramref name="classes"/> classes.</summary>
    string ClassFolders(int classes)
    {
        string tree = Path.Combine(_demo.NewOutput(), "custom");
        foreach (var fields in File.ReadAllLines(Path.Combine(_demo.Data, "train_list.txt")).Concat(File.ReadAllLines(Path.Combine(_demo.Data, "val_list.txt")))
                     .Select(l => l.Split(' ')).Where(f => int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture) < classes))
        {
            string folder = Path.Combine(tree, "class" + fields[1]);
            Directory.CreateDirectory(folder);
            File.Copy(Path.Combine(_demo.Data, fields[0]), Path.Combine(folder, Path.GetFileName(fields[0])));
        }
        return tree;
    }

    static string[] FineTune(string tree, string output, params string[] extra) =>
    [
        "-c", Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_finetune.yaml"),
        "-o", $"Global.output_dir={output}", "-o", "Global.epochs=1", "-o", "Global.seed=3", "-o", "Arch.class_num=3",
        "-o", $"DataLoader.Train.dataset.image_root={tree}", "-o", $"DataLoader.Train.dataset.cls_label_path={tree}/train_list.txt",
        "-o", $"DataLoader.Eval.dataset.image_root={tree}", "-o", $"DataLoader.Eval.dataset.cls_label_path={tree}/val_list.txt",
        "-o", "DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=32",
        "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.resize_short=36", "-o", "DataLoader.Eval.dataset.transform_ops.2.CropImage.size=32",
        "-o", "DataLoader.Train.sampler.batch_size=8", "-o", "DataLoader.Eval.sampler.batch_size=8",
        "-o", "Metric.Train.0.TopkAcc.topk=[1,2]", "-o", "Metric.Eval.0.TopkAcc.topk=[1,2]",
        "-o", $"Infer.infer_imgs={tree}", "-o", $"Infer.PostProcess.class_id_map_file={tree}/label_list.txt",
        .. extra,
    ];

    [Test]
    public void Fine_tuning_from_a_saved_pdparams_to_three_classes_with_a_frozen_backbone_then_eval_and_export()
    {
        string pretrainOut = _demo.NewOutput();
        var pretrain = CliRun.Of(["train", .. _demo.Overrides(pretrainOut, epochs: 1), "-o", "Global.save_format=pdparams"]);
        Assert.That(pretrain.ExitCode, Is.EqualTo(0), pretrain.Error);
        string pretrained = Path.Combine(pretrainOut, "PPLCNet_x0_25", "latest");
        Assert.That(File.Exists(pretrained + ".pdparams"), Is.True, "Global.save_format=pdparams writes latest.pdparams");
        string tree = ClassFolders(3);
        var split = CliRun.Of("dataset", "split", "--root", tree, "--val-ratio", "0.2");
        Assert.That(split.ExitCode, Is.EqualTo(0), split.Error);
        string output = _demo.NewOutput();

        var tuned = CliRun.Of(["train", .. FineTune(tree, output, "-o", $"Global.pretrained_model={pretrained}", "-o", "Arch.freeze_backbone=true")]);

        Assert.That(tuned.ExitCode, Is.EqualTo(0), tuned.Error);
        string modelDir = Path.Combine(output, "PPLCNet_x0_25");
        string log = File.ReadAllText(Path.Combine(modelDir, "train.log"));
        Assert.That(log, Does.Contain($"{pretrained}.pdparams: classifier keys skipped (class_num differs, fine-tuning): fc.bias, fc.weight"));
        Assert.That(log, Does.Contain("Arch.freeze_backbone: training only fc;"));
        var before = WeightFile.Read(pretrained + ".pdparams", WeightLayout.WithoutModel);
        var after = WeightFile.Read(Path.Combine(modelDir, "latest.safetensors"), WeightLayout.WithoutModel);
        Assert.That(after["fc.weight"].shape, Is.EqualTo(new long[] { 3, 1280 }));
        Assert.That(after.Keys.Where(k => !k.StartsWith("fc.", StringComparison.Ordinal) && !Same(before[k], after[k])), Is.Empty,
            "frozen weights and BN statistics stay as loaded");
        Assert.That(after.Count(kv => kv.Key.EndsWith("._mean", StringComparison.Ordinal)), Is.GreaterThan(10));

        var eval = CliRun.Of(["eval", .. FineTune(tree, output, "-o", $"Global.pretrained_model={modelDir}/latest")]);
        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        Assert.That(File.ReadAllText(Path.Combine(modelDir, "eval.log")), Does.Match(@"\[Eval\]\[Epoch 0\]\[Avg\]CELoss: \d+\.\d{5}"));
        string inference = Path.Combine(output, "inference");
        var export = CliRun.Of(["export", .. FineTune(tree, output, "-o", $"Global.pretrained_model={modelDir}/latest.pdparams", "-o", $"Global.save_inference_dir={inference}")]);
        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        Assert.That(Directory.GetFiles(inference, "*.onnx"), Is.Not.Empty);
    }

    [Test]
    public void With_EMA_a_pdparams_checkpoint_also_gets_the_EMA_weights_as_PaddleClas_writes_them()
    {
        string output = _demo.NewOutput();
        var train = CliRun.Of(["train", .. _demo.Overrides(output, epochs: 1), "-o", "Global.save_format=pdparams", "-o", "EMA.decay=0.5"]);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string latest = Path.Combine(output, "PPLCNet_x0_25", "latest");

        var ema = PdparamsFile.Read(latest + ".ema.pdparams");
        var model = PdparamsFile.Read(latest + ".pdparams");
        var emaSafetensors = SafeTensorsFile.Read(latest + ".ema.safetensors").Tensors;

        Assert.That(ema.Keys, Is.EquivalentTo(model.Keys));
        Assert.That(ema.Keys.Where(k => k != "fc.weight" && !Same(ema[k], emaSafetensors[k])), Is.Empty, "the EMA weights of latest.ema.safetensors");
        Assert.That(Same(ema["fc.weight"], emaSafetensors["fc.weight"].t()), Is.True, "Paddle's Linear layout");
        Assert.That(ema.Keys.Where(k => !Same(ema[k], model[k])), Is.Not.Empty, "not the model's weights");

        var again = CliRun.Of(["train", .. _demo.Overrides(output, epochs: 1)]);
        Assert.That(again.ExitCode, Is.EqualTo(0), again.Error);
        Assert.That(File.Exists(latest + ".ema.pdparams"), Is.False, "a run without save_format pdparams removes the stale file");
    }

    [Test]
    public void Weights_convert_turns_pdparams_into_safetensors_and_back_with_identical_tensors()
    {
        string output = _demo.NewOutput();
        var train = CliRun.Of(["train", .. _demo.Overrides(output, epochs: 1), "-o", "Global.save_format=pdparams"]);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string pdparams = Path.Combine(output, "PPLCNet_x0_25", "latest.pdparams");

        var there = CliRun.Of("weights", "convert", pdparams, Path.Combine(output, "w.safetensors"));
        var back = CliRun.Of("weights", "convert", Path.Combine(output, "w"), Path.Combine(output, "back.pdparams"));

        Assert.That(there.ExitCode, Is.EqualTo(0), there.Error);
        Assert.That(back.ExitCode, Is.EqualTo(0), back.Error);
        Assert.That(there.Output, Does.StartWith($"wrote 146 tensors from {pdparams} to {output}/w.safetensors"));
        var original = PdparamsFile.Read(pdparams);
        var converted = SafeTensorsFile.Read(Path.Combine(output, "w.safetensors")).Tensors;
        var returned = PdparamsFile.Read(Path.Combine(output, "back.pdparams"));
        Assert.That(converted["fc.weight"].shape, Is.EqualTo(new long[] { 4, 1280 }), "safetensors in TorchSharp's layout");
        Assert.That(original["fc.weight"].shape, Is.EqualTo(new long[] { 1280, 4 }), ".pdparams in Paddle's layout");
        Assert.That(returned.Keys, Is.EquivalentTo(original.Keys));
        Assert.That(original.Keys.Where(k => !Same(original[k], returned[k])), Is.Empty);
        var safetensorsModel = SafeTensorsFile.Read(Path.Combine(output, "PPLCNet_x0_25", "latest.safetensors")).Tensors;
        Assert.That(safetensorsModel.Keys.Where(k => !Same(safetensorsModel[k], converted[k])), Is.Empty, "latest.pdparams holds the weights of latest.safetensors");

        var bad = CliRun.Of("weights", "convert", pdparams, Path.Combine(output, "w.pth"));
        Assert.That(bad.ExitCode, Is.EqualTo(2));
        Assert.That(bad.Error, Does.Contain($"OUT: cannot write '{output}/w.pth': the extension must be .pdparams or .safetensors (PyTorch files are read only)"));
    }
}
