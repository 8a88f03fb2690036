using Ppcls.Core.Metric;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>The options of <see cref="MultiLabelAsymmetricLoss"/>, with PaddleClas's defaults.</summary>
public sealed record AsymmetricLossOptions(double GammaPos = 1, double GammaNeg = 4, double Clip = 0.05, double Epsilon = 1e-8,
    bool DisableFocalLossGrad = true, LossReduction Reduction = LossReduction.Sum);

/// <summary>
/// PaddleClas <c>MultiLabelAsymmetricLoss</c> (Ben-Baruch et al., ASL): with p = sigmoid(logits) and 0/1
/// target t, pt = min(1 - p + clip, 1) (1 - t) + p t (without clip: (1 - p)(1 - t) + p t); each entry's
/// loss is -log(max(pt, epsilon)) (1 - pt)^(gamma_pos t + gamma_neg (1 - t)), the focusing factor
/// taken without gradient when <c>disable_focal_loss_grad</c>; then summed (default), averaged or
/// kept per entry (<c>reduction</c>). MultiLabelDataset's [N, 2, C] target reads its first row.
/// </summary>
public sealed class MultiLabelAsymmetricLoss(AsymmetricLossOptions options) : IClassificationLoss
{
    public string Name => "MultiLabelAsymmetricLoss";
    public AsymmetricLossOptions Options { get; } = options;

    public Tensor Compute(Tensor logits, Tensor target)
    {
        var p = logits.sigmoid();
        var t = MultiLabelTargets.Of(target).to_type(p.dtype);
        if (t.shape[^1] != p.shape[^1])
            throw new PpclsUserException($"MultiLabelAsymmetricLoss: the model gives {p.shape[^1]} outputs per image but the labels have {t.shape[^1]}; set Arch.class_num to the number of labels per line");
        var negative = Options.Clip > 0 ? (1 - p + Options.Clip).clamp_max(1) : 1 - p;
        var pt = negative * (1 - t) + p * t;
        var exponent = t * Options.GammaPos + (1 - t) * Options.GammaNeg;
        Tensor weight;
        if (Options.DisableFocalLossGrad)
            using (no_grad()) weight = (1 - pt).pow(exponent);
        else weight = (1 - pt).pow(exponent);
        var loss = -pt.clamp_min(Options.Epsilon).log() * weight;
        return Options.Reduction.Apply(loss);
    }
}
