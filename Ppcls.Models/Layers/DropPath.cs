using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Stochastic depth (PaddleClas's <c>DropPath</c>): in training each sample's residual branch is
/// dropped with probability <see cref="Probability"/> and the kept ones are scaled by 1 / (1 - p),
/// so the expectation equals the input; in eval (and in ONNX) it is the identity.
/// </summary>
public sealed class DropPath : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    public DropPath(double probability) : base(nameof(DropPath))
    {
        if (probability is < 0.0 or >= 1.0) throw new ArgumentOutOfRangeException(nameof(probability), probability, "drop path probability must be in [0, 1)");
        Probability = probability;
    }

    public double Probability { get; }

    public override Tensor forward(Tensor x)
    {
        if (!training || Probability == 0.0) return x.alias();
        double keep = 1.0 - Probability;
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        shape[0] = x.shape[0];
        using var mask = (rand(shape, dtype: x.dtype, device: x.device) + keep).floor_();
        return x / keep * mask;
    }

    public string ToOnnx(OnnxGraph graph, string input) => input;
}
