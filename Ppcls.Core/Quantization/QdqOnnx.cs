using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Core.Quantization;

/// <summary>
/// The ONNX form of a quantization-aware layer (<see cref="QuantizedLayer"/>), in the QDQ format ONNX
/// Runtime reads as int8: the input is clipped to min(alpha, scale) (PACT and the quantizer's own clip in
/// one Clip), then QuantizeLinear / DequantizeLinear with the stored activation scale; the weight is stored
/// as int8 per output channel and read through DequantizeLinear (axis 0). A layer without quantizers is
/// written as before (float input and weight).
/// </summary>
public static class QdqOnnx
{
    /// <summary>The layer's input as the layer reads it: <paramref name="x"/> itself, or its QDQ form.</summary>
    public static string Input(OnnxGraph graph, nn.Module layer, string x)
    {
        if (QuantAware.QuantizersOf(layer) is not { } q) return x;
        using var noGrad = no_grad();
        float scale = q.Input.Scale.item<float>();
        float bound = Math.Min(q.Pact.Alpha.item<float>(), scale);
        using var stepTensor = FakeQuant.Step(q.Input.Scale, FakeQuant.BinCount(q.Input.Bits));
        var step = graph.Initializer("input_scale", [stepTensor.item<float>()], []);
        var zero = graph.Int8Initializer("input_zero_point", [0], []);
        var clipped = graph.Clip(x, -bound, bound);
        var quantized = graph.Node("QuantizeLinear", [clipped, step, zero]);
        return graph.Node("DequantizeLinear", [quantized, step, zero]);
    }

    /// <summary>The layer's weight: a float initializer, or int8 per-channel values through DequantizeLinear.</summary>
    public static string Weight(OnnxGraph graph, nn.Module layer, Tensor weight)
    {
        if (QuantAware.QuantizersOf(layer) is not { } q) return graph.Initializer("weight", weight);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var w = weight.detach().cpu().to(ScalarType.Float32);
        var channelScale = FakeQuant.ChannelAbsMax(w);
        var step = FakeQuant.Step(channelScale, FakeQuant.BinCount(q.Weight.Bits));
        var broadcast = step.reshape([-1, .. Enumerable.Repeat(1L, (int)w.dim() - 1)]);
        var levels = w.clamp(channelScale.neg().reshape(broadcast.shape), channelScale.reshape(broadcast.shape)).div(broadcast).round().to(ScalarType.Int8).contiguous();
        long channels = w.shape[0];
        var values = graph.Int8Initializer("weight_quantized", levels.data<sbyte>().ToArray(), w.shape);
        var scales = graph.Initializer("weight_scale", step.data<float>().ToArray(), [channels]);
        var zeros = graph.Int8Initializer("weight_zero_point", new sbyte[channels], [channels]);
        return graph.Node("DequantizeLinear", [values, scales, zeros], a => a.Int("axis", 0));
    }
}
