using Ppcls.Core.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Paddle's `nn.Dropout(p, mode="downscale_in_infer")`, used in the PPHGNet, PPHGNetV2 and
/// PPLCNetV2 heads. Training zeroes each element with probability p and does not rescale
/// the survivors; inference multiplies every element by (1 - p). Torch's dropout does the
/// reverse (scales by 1/(1-p) in training, identity at inference), so logits would differ.
/// </summary>
public sealed class DownscaleInInferDropout : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    public DownscaleInInferDropout(double p) : base(nameof(DownscaleInInferDropout))
    {
        if (p is < 0.0 or > 1.0 || double.IsNaN(p))
            throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1]");
        P = p;
        RegisterComponents();
    }

    /// <summary>The probability of dropping an element.</summary>
    public double P { get; }

    public override Tensor forward(Tensor x)
    {
        if (P == 0.0) return x;
        if (!training) return x * (1.0 - P);
        return x * rand_like(x).ge_(P);
    }

    /// <summary>Inference scales by (1 - p); nothing at p = 0.</summary>
    public string ToOnnx(OnnxGraph graph, string input) => P == 0.0 ? input : graph.Scale(input, 1.0 - P);
}
