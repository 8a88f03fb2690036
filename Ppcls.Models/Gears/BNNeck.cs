using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using BatchNorm2d = Ppcls.Models.Layers.BatchNorm2d;

namespace Ppcls.Models.Gears;

/// <summary>
/// PaddleClas's <c>BNNeck</c>: flatten, then <c>feat_bn</c>, a BatchNorm1D over num_features (Paddle
/// momentum 0.9, epsilon 1e-5; state-dict keys <c>feat_bn.weight</c>, <c>.bias</c>, <c>._mean</c>,
/// <c>._variance</c>), its weight 1 and bias 0 unless <c>weight_attr</c> / <c>bias_attr</c> say otherwise.
/// In ONNX the eval-mode normalisation is one Mul and one Add with the folded scale and shift.
/// </summary>
public sealed class BNNeck : RecGear
{
    const double Epsilon = 1e-5;

    readonly Flatten flatten;
    readonly BatchNorm2d feat_bn;
    readonly ParamAttr _weightAttr;
    readonly ParamAttr _biasAttr;

    public BNNeck(int numFeatures, ParamAttr? weightAttr = null, ParamAttr? biasAttr = null) : base(nameof(BNNeck))
    {
        _weightAttr = weightAttr ?? ParamAttr.Default;
        _biasAttr = biasAttr ?? ParamAttr.Default;
        flatten = nn.Flatten(1);
        feat_bn = new BatchNorm2d(numFeatures, Epsilon); // batch_norm normalises [N, C] as well
        _weightAttr.Apply(feat_bn.Weight);
        _biasAttr.Apply(feat_bn.Bias);
        OutputSize = numFeatures;
        RegisterComponents();
    }

    public override int OutputSize { get; }

    public override Tensor forward(Tensor x) => feat_bn.call(flatten.call(x));

    public override IEnumerable<(string Name, double Multiplier)> LearningRateMultipliers()
    {
        if (_weightAttr.LearningRate != 1.0) yield return ("feat_bn.weight", _weightAttr.LearningRate);
        if (_biasAttr.LearningRate != 1.0) yield return ("feat_bn.bias", _biasAttr.LearningRate);
    }

    public override string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Flatten(input);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var scale = feat_bn.Weight / (feat_bn.RunningVariance + Epsilon).sqrt();
        var shift = feat_bn.Bias - feat_bn.RunningMean * scale;
        return graph.Child("feat_bn", () => graph.Add(graph.Mul(y, graph.Initializer("scale", scale)), graph.Initializer("shift", shift)));
    }
}
