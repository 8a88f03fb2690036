using OpenCvSharp;
using Ppcls.Core.Onnx;
using Ppcls.Inference.Preprocessing;
using Torch = TorchSharp.torch;

namespace Ppcls.Inference.Tests;

/// <summary>
/// The package's own flow (as its README shows it): typed deploy ops, ONNX Runtime and Topk in
/// batches, on a tiny exported classifier. The model is written with Ppcls.Core here only to
/// have one; classifying needs nothing but Ppcls.Inference.
/// </summary>
public sealed class DeployOnlyClassifierTests
{
    string _dir = null!;

    [SetUp]
    public void MakeFolder() => _dir = Directory.CreateTempSubdirectory("ppcls-deploy-only-").FullName;

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_dir, recursive: true);

    string TinyModel()
    {
        Torch.manual_seed(5);
        using var net = Torch.nn.Sequential(
            ("conv", Torch.nn.Conv2d(3, 4, 3, stride: 2, padding: 1)),
            ("pool", Torch.nn.AdaptiveAvgPool2d(1)),
            ("flatten", Torch.nn.Flatten(1)),
            ("fc", Torch.nn.Linear(4, 3)));
        string path = Path.Combine(_dir, ModelFolder.InferenceOnnx);
        OnnxClassifierExport.Save(OnnxClassifierExport.Build(net, "tiny", 3, 8, 8, 3), path);
        return path;
    }

    string Image(string name, byte value)
    {
        using var image = new Mat(12, 10, MatType.CV_8UC3, new Scalar(value, 255 - value, value / 2));
        string path = Path.Combine(_dir, "images", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Cv2.ImWrite(path, image);
        return path;
    }

    [Test]
    public void Images_are_classified_in_batches_in_order_with_the_unreadable_one_named_and_left_out()
    {
        using var model = new OnnxClassifier(TinyModel());
        var files = new[] { Image("a.png", 10), Image("b.png", 120), Image("c.png", 250) };
        File.WriteAllText(Path.Combine(_dir, "images", "broken.png"), "no png");
        var preprocess = new DeployPreprocessor([
            new ResizeOp(size: null, resizeShort: 8, InterpolationFlags.Linear),
            new CropOp(new Size(8, 8)),
            new NormalizeOp(1.0 / 255.0, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            new ToChwOp(),
        ]);
        var topk = new TopkPostProcess(2, ["x", "y", "z"]);
        var skipped = new List<string>();

        var batches = new BatchClassifier(preprocess, model.Run, topk, batchSize: 2)
            .Run(ImageList.Collect(Path.Combine(_dir, "images"), "images"), skipped.Add).ToList();

        Assert.That(batches.Select(b => b.Count), Is.EqualTo(new[] { 2, 1 }), "a, b | c (broken.png skipped between b and c)");
        Assert.That(batches.SelectMany(b => b).Select(r => r.FileName), Is.EqualTo(files));
        Assert.That(skipped.Single(), Does.StartWith($"cannot decode image {Path.Combine(_dir, "images", "broken.png")}"));
        foreach (var (file, result) in files.Zip(batches.SelectMany(b => b).Cast<ClassResult>()))
        {
            var (chw, c, h, w) = preprocess.Load(file);
            var alone = topk.Apply(model.Run(chw, [1, c, h, w]), file);
            Assert.That(result.ClassIds, Is.EqualTo(alone.ClassIds), file);
            Assert.That(result.Scores, Is.EqualTo(alone.Scores).Within(1e-5), file);
            Assert.That(result.LabelNames, Is.EqualTo(result.ClassIds.Select(i => "xyz"[i].ToString())), file);
        }
        Assert.That(batches.SelectMany(b => b).Cast<ClassResult>().Select(r => r.ClassIds.Count), Is.All.EqualTo(2));
    }
}
