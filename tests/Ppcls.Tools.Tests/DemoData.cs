namespace Ppcls.Tools.Tests;

/// <summary>
/// The tiny generated demo set the end-to-end tests train on (4 classes, 10 images each, 32 px),
/// and the overrides that point the quick-start config at it.
/// </summary>
public sealed class DemoData : IDisposable
{
    public string Root { get; }
    public string Data { get; }

    public DemoData()
    {
        Root = Directory.CreateTempSubdirectory("ppcls-train-test-").FullName;
        Data = Path.Combine(Root, "demo");
        var run = CliRun.Of("dataset", "make-demo", Data, "--classes", "4", "--per-class", "10", "--size", "32", "--seed", "1");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
    }

    /// <summary>A fresh output folder under <see cref="Root"/>.</summary>
    public string NewOutput()
    {
        string output = Path.Combine(Root, "out-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(output);
        return output;
    }

    /// <summary>The quick-start config on this data: 32 px crops, batches of 8 (4 per epoch), 4 classes, seed 7.</summary>
    public string[] Overrides(string output, int epochs) =>
    [
        "-c", CliRun.QuickStartConfig, .. DataOverrides(output, epochs),
        "-o", "Global.print_batch_step=1", "-o", "Global.save_interval=1",
        "-o", "DataLoader.Eval.sampler.batch_size=8",
        "-o", "Metric.Train.0.TopkAcc.topk=[1,2]", "-o", "Metric.Eval.0.TopkAcc.topk=[1,2]",
    ];

    /// <summary>
    /// What points any demo-layout config (quick-start transform_ops) at this data: output, epochs,
    /// seed 7, 4 classes, both lists, 32 px crops, training batches of 8.
    /// </summary>
    public string[] DataOverrides(string output, int epochs) =>
    [
        "-o", $"Global.output_dir={output}", "-o", $"Global.epochs={epochs}", "-o", "Global.seed=7", "-o", "Arch.class_num=4",
        "-o", $"DataLoader.Train.dataset.image_root={Data}", "-o", $"DataLoader.Train.dataset.cls_label_path={Data}/train_list.txt",
        "-o", $"DataLoader.Eval.dataset.image_root={Data}", "-o", $"DataLoader.Eval.dataset.cls_label_path={Data}/val_list.txt",
        "-o", "DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=32",
        "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.resize_short=36",
        "-o", "DataLoader.Eval.dataset.transform_ops.2.CropImage.size=32",
        "-o", "DataLoader.Train.sampler.batch_size=8",
    ];

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
