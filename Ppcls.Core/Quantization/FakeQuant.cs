using static TorchSharp.torch;

namespace Ppcls.Core.Quantization;

/// <summary>
/// The fake-quantization formulas of PaddleSlim's QAT (int8, symmetric): with b = 2^(bits-1) - 1
/// (127), a scale s and the step d = s / b, q(x) = round(clip(x, -s, s) / d) * d, computed as ONNX's
/// QuantizeLinear / DequantizeLinear pair computes it (so an exported QDQ graph matches). The gradient
/// passes straight through (d q / d x = 1), as Paddle's fake_quantize_dequantize ops do. A scale at or
/// below 1e-30 uses s + 1e-6 (Paddle's guard against an all-zero channel). Rounding is to the nearest
/// even on ties (torch.round, QuantizeLinear); Paddle rounds ties away from zero, which differs only on
/// exact halves.
/// </summary>
public static class FakeQuant
{
    public const int Bits = 8;

    /// <summary>The largest quantized magnitude: 127 for 8 bits.</summary>
    public static double BinCount(int bits) => (1 << (bits - 1)) - 1;

    /// <summary>Quantizes and dequantizes <paramref name="x"/> with <paramref name="scale"/> (broadcast against x); straight-through gradient.</summary>
    public static Tensor QuantDequant(Tensor x, Tensor scale, int bits = Bits)
    {
        using var scope = NewDisposeScope();
        double bins = BinCount(bits);
        Tensor quantized;
        using (no_grad())
        {
            var s = scale.detach();
            var step = Step(s, bins);
            quantized = x.detach().clamp(s.neg(), s).div(step).round().mul(step);
        }
        return x.add(quantized.sub(x.detach())).MoveToOuterDisposeScope();
    }

    /// <summary>The quantization step s / b of each scale (the QuantizeLinear scale), guarded against a zero scale.</summary>
    public static Tensor Step(Tensor scale, double bins) => where(scale.le(1e-30), scale.add(1e-6), scale).div(bins);

    /// <summary>Per output channel (dim 0) abs-max of a conv or linear weight, shape [out].</summary>
    public static Tensor ChannelAbsMax(Tensor weight)
    {
        using var noGrad = no_grad();
        return weight.detach().abs().flatten(1).amax([1L]);
    }

    /// <summary>The weight fake-quantized per output channel with its own abs-max (channel_wise_abs_max).</summary>
    public static Tensor ChannelWise(Tensor weight, Tensor channelScale, int bits = Bits)
    {
        var shape = new long[weight.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        using var broadcast = channelScale.reshape(shape);
        return QuantDequant(weight, broadcast, bits);
    }

    /// <summary>PACT: clip(x, -alpha, alpha) as x - relu(x - alpha) + relu(-alpha - x), so alpha learns (gradient +1 above alpha, -1 below -alpha).</summary>
    public static Tensor Pact(Tensor x, Tensor alpha)
    {
        using var scope = NewDisposeScope();
        var above = nn.functional.relu(x.sub(alpha));
        var below = nn.functional.relu(alpha.neg().sub(x));
        return x.sub(above).add(below).MoveToOuterDisposeScope();
    }
}
