using Google.Protobuf;
using Ppcls.Inference;
using Ppcls.Core.Onnx;
using Ppcls.Core.Onnx.Proto;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Onnx;

/// <summary>The ONNX writer: the protobuf it writes reads back field for field, and ONNX Runtime computes what TorchSharp computes.</summary>
public sealed class OnnxGraphTests
{
    /// <summary>A tiny classifier of built-in modules: conv (stride 2, padding 1, bias), ReLU6, global pool, flatten, linear.</summary>
    internal static nn.Module<Tensor, Tensor> TinyNet(int seed = 3)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("conv", nn.Conv2d(3, 4, 3, stride: 2, padding: 1)),
            ("act", nn.ReLU6()),
            ("pool", nn.AdaptiveAvgPool2d(1)),
            ("flatten", nn.Flatten(1)),
            ("fc", nn.Linear(4, 5)));
    }

    [Test]
    public void A_written_model_reads_back_with_the_onnx_field_values()
    {
        using var net = TinyNet();
        var model = OnnxClassifierExport.Build(net, "tiny", 3, 8, 8, 5, new Dictionary<string, string> { ["model_name"] = "tiny" });

        var read = ModelProto.Parser.ParseFrom(model.ToByteArray());

        Assert.That(read, Is.EqualTo(model));
        Assert.That(read.IrVersion, Is.EqualTo(8));
        Assert.That(read.OpsetImport.Single().Version, Is.EqualTo(17));
        Assert.That(read.ProducerName, Is.EqualTo("ppcls"));
        Assert.That(read.MetadataProps.Single().Value, Is.EqualTo("tiny"));
        var input = read.Graph.Input.Single();
        Assert.That(input.Name, Is.EqualTo("x"));
        Assert.That(input.Type.TensorType.ElemType, Is.EqualTo((int)TensorProto.Types.DataType.Float));
        Assert.That(input.Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString()), Is.EqualTo(new[] { "N", "3", "8", "8" }));
        Assert.That(read.Graph.Output.Single().Name, Is.EqualTo("softmax"));
        Assert.That(read.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "Conv", "Clip", "GlobalAveragePool", "Flatten", "Gemm", "Softmax" }));
        var conv = read.Graph.Node[0];
        Assert.That(conv.Input, Is.EqualTo(new[] { "x", "conv.weight", "conv.bias" }));
        Assert.That(conv.Attribute.Single(a => a.Name == "pads").Ints, Is.EqualTo(new long[] { 1, 1, 1, 1 }));
        Assert.That(conv.Attribute.Single(a => a.Name == "strides").Ints, Is.EqualTo(new long[] { 2, 2 }));
        Assert.That(conv.Attribute.Single(a => a.Name == "group").I, Is.EqualTo(1));
        var weight = read.Graph.Initializer.Single(t => t.Name == "conv.weight");
        Assert.That(weight.Dims, Is.EqualTo(new long[] { 4, 3, 3, 3 }));
        Assert.That(weight.RawData.Length, Is.EqualTo(4 * 3 * 3 * 3 * sizeof(float)));
        float first = BitConverter.ToSingle(weight.RawData.Span[..4]);
        Assert.That(first, Is.EqualTo(((Conv2d)net.named_children().First().module).weight.data<float>()[0]));
        Assert.That(read.Graph.Node.Single(n => n.OpType == "Gemm").Attribute.Single().I, Is.EqualTo(1), "transB");
    }

    [Test]
    public void Onnx_runtime_runs_the_written_file_as_torchsharp_runs_the_module()
    {
        using var net = TinyNet();
        string path = Path.Combine(Path.GetTempPath(), $"ppcls-tiny-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxClassifierExport.Save(OnnxClassifierExport.Build(net, "tiny", 3, 8, 8, 5), path);
            var images = Enumerable.Range(0, 2 * 3 * 8 * 8).Select(i => (float)Math.Sin(i * 0.37) * 2).ToArray();
            long[] shape = [2, 3, 8, 8];

            using var session = new OnnxClassifier(path);
            var onnx = session.Run(images, shape);
            var torchSharp = Ppcls.Core.Engine.OnnxExporter.Probabilities(net, images, shape);

            Assert.That(session.InputDimensions, Is.EqualTo(new[] { -1, 3, 8, 8 }));
            Assert.That(session.Classes, Is.EqualTo(5));
            Assert.That(onnx, Is.EqualTo(torchSharp).Within(1e-6));
            Assert.That(onnx.Take(5).Sum(), Is.EqualTo(1f).Within(1e-5), "softmax rows sum to 1");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_module_without_an_emitter_is_named_with_its_path()
    {
        using var net = nn.Sequential(("body", nn.Sequential(("tanh", nn.Tanh()))));

        var e = Assert.Throws<OnnxExportException>(() => OnnxClassifierExport.Build(net, "bad", 3, 8, 8, 2));

        Assert.That(e!.Message, Is.EqualTo("no ONNX emitter for body.tanh (Tanh); implement IOnnxExportable on it"));
    }

    [Test]
    public void Export_check_reports_the_largest_deviation_and_top1_agreement()
    {
        float[] torchSharp = [0.7f, 0.2f, 0.1f, 0.3f, 0.3f, 0.4f];
        float[] onnx = [0.7f, 0.2f, 0.1f, 0.3f, 0.5f, 0.2f];

        var check = ExportCheck.Compare("2 images", torchSharp, onnx, images: 2);

        Assert.That(check.Passed, Is.False);
        Assert.That(check.MaxAbsDifference, Is.EqualTo(0.2).Within(1e-6));
        Assert.That((check.Image, check.Class), Is.EqualTo((1, 1)).Or.EqualTo((1, 2)));
        Assert.That(check.Top1Agreeing, Is.EqualTo(1));
        Assert.That(check.ToString(), Does.StartWith("ORT vs TorchSharp, 2 images: max |dp| 2.0e-01 (image 1, class "));
    }
}
