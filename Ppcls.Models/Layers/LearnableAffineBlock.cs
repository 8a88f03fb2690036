using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// PP-HGNetV2's learnable affine block: y = scale * x + bias with one scalar scale and one
/// scalar bias (state-dict keys `scale`, `bias`, each of shape [1]). PaddleClas trains both
/// at a reduced learning rate, lr_mult * lab_lr (lab_lr 0.01 by default); that product is
/// <see cref="LearningRateMultiplier"/>, which the owning network reports to the optimizer.
/// </summary>
public sealed class LearnableAffineBlock : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    /// <summary>PaddleClas's default `lab_lr`.</summary>
    public const double DefaultLabLr = 0.01;

    readonly Parameter scale;
    readonly Parameter bias;

    public LearnableAffineBlock(double scaleValue = 1.0, double biasValue = 0.0, double lrMult = 1.0, double labLr = DefaultLabLr)
        : base(nameof(LearnableAffineBlock))
    {
        scale = nn.Parameter(full(1, scaleValue));
        bias = nn.Parameter(full(1, biasValue));
        LearningRateMultiplier = lrMult * labLr;
        RegisterComponents();
    }

    /// <summary>The learning-rate multiplier of `scale` and `bias` (lr_mult * lab_lr).</summary>
    public double LearningRateMultiplier { get; }

    public Parameter Scale => scale;
    public Parameter Bias => bias;

    public override Tensor forward(Tensor x) => x * scale + bias;

    public string ToOnnx(OnnxGraph graph, string input) =>
        graph.Add(graph.Mul(input, graph.Initializer("scale", scale)), graph.Initializer("bias", bias));
}
