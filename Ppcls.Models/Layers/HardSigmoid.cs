using Ppcls.Core.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Paddle's hard sigmoid, clip(slope * x + offset, 0, 1). `paddle.nn.Hardsigmoid()` uses
/// slope 0.1666667 and offset 0.5 (close to, but not bit-equal with, torch's relu6(x + 3) / 6);
/// the legacy `fluid` op and PaddleClas's MobileNetV3 use slope 0.2. Same form as ONNX HardSigmoid(alpha, beta).
/// </summary>
public sealed class HardSigmoid : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    /// <summary>The default slope of `paddle.nn.functional.hardsigmoid`.</summary>
    public const double PaddleSlope = 0.1666667;

    public HardSigmoid(double slope = PaddleSlope, double offset = 0.5) : base(nameof(HardSigmoid))
    {
        Slope = slope;
        Offset = offset;
    }

    public double Slope { get; }
    public double Offset { get; }

    public override Tensor forward(Tensor x) => x.mul(Slope).add_(Offset).clamp(0.0, 1.0);

    /// <summary>ONNX HardSigmoid is the same clip(alpha x + beta, 0, 1), with alpha = slope and beta = offset.</summary>
    public string ToOnnx(OnnxGraph graph, string input) => graph.HardSigmoid(input, Slope, Offset);
}
