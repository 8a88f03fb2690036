using System.Text.RegularExpressions;
using Ppcls.Core.Deploy;
using Ppcls.Serving;
using Ppcls.Tools.Commands;

namespace Ppcls.Tools.Tests;

/// <summary>
/// A tiny model for the serving tests: the demo set (4 classes, 32 px), one epoch of training, `ppcls export`; then
/// servers on free loopback ports over that folder, opened as `ppcls serve` opens it, and `ppcls predict` to compare with.
/// </summary>
public sealed partial class ServingFixture : IDisposable
{
    readonly DemoData _demo = new();
    readonly List<ExportedFolder> _opened = [];

    public ServingFixture()
    {
        string output = _demo.NewOutput();
        var train = CliRun.Of(["train", .. _demo.Overrides(output, epochs: 1)]);
        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        Inference = Path.Combine(_demo.Root, "inference");
        var export = CliRun.Of(["export", .. _demo.Overrides(output, epochs: 1),
            "-o", $"Global.pretrained_model={Path.Combine(output, "PPLCNet_x0_25", "best_model")}", "-o", $"Global.save_inference_dir={Inference}",
            "-o", "Global.image_shape=[3,32,32]", "-o", "Infer.transforms.1.ResizeImage.resize_short=36", "-o", "Infer.transforms.2.CropImage.size=32",
            "-o", "Infer.PostProcess.topk=3", "-o", $"Infer.PostProcess.class_id_map_file={_demo.Data}/label_list.txt"]);
        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        Images = [.. Directory.GetFiles(Path.Combine(_demo.Data, "images")).Order(StringComparer.Ordinal)];
    }

    /// <summary>The exported folder (inference.onnx, inference.yml).</summary>
    public string Inference { get; }

    public IReadOnlyList<string> Images { get; }

    public string[] ServeArgs => ["-c", Path.Combine(CliRun.RepoRoot, "configs", "inference_cls.yaml"), "-o", $"Global.inference_model_dir={Inference}"];

    /// <summary>A server over the folder on a free loopback port, with <paramref name="options"/> (Port is set to 0).</summary>
    public async Task<ServingHost> StartAsync(ServeOptions? options = null, TextWriter? log = null)
    {
        var deploy = DeployConfig.Read(new Core.Config.ConfigMap(), "test", _ => { }) with { InferenceModelDir = Inference };
        var folder = ExportedFolder.Open(deploy, _ => { });
        _opened.Add(folder);
        var model = new ServedModel(folder.Name, folder.Preprocessor, folder.Run, folder.PostProcess, folder.Model.InputDimensions, ServeCommand.Json(folder.Ops));
        return await ServingHost.StartAsync(model, (options ?? new ServeOptions()) with { Port = 0 }, log ?? TextWriter.Null);
    }

    public sealed record Prediction(int[] Ids, double[] Scores, string[] Names);

    [GeneratedRegex(@"^(?<file>[^\t]+):\tclass id\(s\): \[(?<ids>[^\]]*)\], score\(s\): \[(?<scores>[^\]]*)\], label_name\(s\): \[(?<names>[^\]]*)\]$", RegexOptions.Multiline)]
    private static partial Regex PredictLine();

    /// <summary>`ppcls predict` on the images, by file name.</summary>
    public Dictionary<string, Prediction> Predict(params string[] images)
    {
        var result = new Dictionary<string, Prediction>();
        foreach (var image in images)
        {
            var run = CliRun.Of(["predict", .. ServeArgs, "-o", $"Global.infer_imgs={image}"]);
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
            var line = PredictLine().Match(run.Output);
            Assert.That(line.Success, Is.True, run.Output);
            result[Path.GetFileName(image)] = new Prediction(
                [.. line.Groups["ids"].Value.Split(", ").Select(int.Parse)],
                [.. line.Groups["scores"].Value.Split(", ").Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture))],
                [.. line.Groups["names"].Value.Split(", ").Select(n => n.Trim('\''))]);
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var folder in _opened) folder.Dispose();
        _demo.Dispose();
    }
}
