using Ppcls.Core.Engine;
using Ppcls.Core.Onnx;
using Ppcls.Core.Onnx.Proto;
using Ppcls.Core.Quantization;
using Ppcls.Core.Tests.Onnx;
using Ppcls.Inference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Quantization;

/// <summary>A quantization-aware model written as a QDQ graph runs in ONNX Runtime as the TorchSharp fake-quant model runs in eval.</summary>
public sealed class QdqOnnxTests
{
    static float[] Images(int count, double amplitude) =>
        Enumerable.Range(0, count * 3 * 8 * 8).Select(i => (float)(Math.Sin(i * 0.37) * amplitude)).ToArray();

    [TestCase(20.0, TestName = "QDQ graph: alpha above the activation scale")]
    [TestCase(0.5, TestName = "QDQ graph: PACT alpha below the activation scale clips first")]
    public void Onnx_runtime_runs_the_qdq_graph_as_the_fake_quantized_model_runs_in_eval(double alpha)
    {
        using var net = OnnxGraphTests.TinyNet(seed: 11); // conv, ReLU6, pool, flatten, linear
        QuantAware.Apply(net);
        var conv = (Conv2d)net.named_children().First(c => c.name == "conv").module;
        using (no_grad()) QuantAware.QuantizersOf(conv)!.Value.Pact.Alpha.fill_(alpha);
        long[] shape = [2, 3, 8, 8];
        using (no_grad()) net.call(tensor(Images(2, 2.0), shape)); // training mode: calibrates the activation scales
        net.eval();
        string path = Path.Combine(Path.GetTempPath(), $"ppcls-qdq-{Guid.NewGuid():N}.onnx");
        try
        {
            var model = OnnxClassifierExport.Build(net, "tiny-qat", 3, 8, 8, 5);
            OnnxClassifierExport.Save(model, path);
            var images = Images(2, 3.0); // beyond the calibrated range: the clip and saturation are exercised
            using var session = new OnnxClassifier(path);
            var onnx = session.Run(images, shape);
            var torchSharp = OnnxExporter.Probabilities(net, images, shape);

            Assert.That(onnx, Is.EqualTo(torchSharp).Within(1e-6));
            var nodes = model.Graph.Node.Select(n => n.OpType).ToList();
            Assert.That(nodes, Is.EqualTo(new[]
            {
                "Clip", "QuantizeLinear", "DequantizeLinear", "DequantizeLinear", "Conv", "Clip", "GlobalAveragePool", "Flatten",
                "Clip", "QuantizeLinear", "DequantizeLinear", "DequantizeLinear", "Gemm", "Softmax",
            }));
            var weight = model.Graph.Initializer.Single(t => t.Name == "conv.weight_quantized");
            Assert.That(weight.DataType, Is.EqualTo((int)TensorProto.Types.DataType.Int8));
            var levels = weight.RawData.Span.ToArray().Select(b => (double)(sbyte)b).ToArray();
            var w = conv.weight!.detach().data<float>().ToArray();
            for (int c = 0; c < 4; c++)
            {
                double s = w.Skip(c * 27).Take(27).Max(v => Math.Abs((double)v));
                for (int i = c * 27; i < (c + 1) * 27; i++)
                    Assert.That(levels[i], Is.EqualTo(Math.Round(w[i] * 127 / s, MidpointRounding.ToEven)).Within(1), $"int8 weight {i}");
                Assert.That(levels.Skip(c * 27).Take(27).Max(Math.Abs), Is.EqualTo(127), $"channel {c} spans the int8 range");
            }
            var dequantizeWeight = model.Graph.Node.First(n => n.OpType == "DequantizeLinear" && n.Input[0] == weight.Name);
            Assert.That(dequantizeWeight.Attribute.Single(a => a.Name == "axis").I, Is.EqualTo(0), "per output channel");
            var firstClip = model.Graph.Node.First(n => n.OpType == "Clip");
            float bound = BitConverter.ToSingle(model.Graph.Initializer.Single(t => t.Name == firstClip.Input[2]).RawData.Span);
            float inputScale = QuantAware.QuantizersOf(conv)!.Value.Input.Scale.item<float>();
            Assert.That(bound, Is.EqualTo(Math.Min(alpha, inputScale)).Within(1e-6), "clip at min(alpha, activation scale)");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
