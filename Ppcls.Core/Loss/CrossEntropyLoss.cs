using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>CELoss</c> (<c>epsilon</c>, <c>reduction</c>), computed as PaddleClas does:
/// <list type="bullet">
/// <item>with <c>epsilon</c> in (0, 1): target = (1 - eps) * one_hot + eps / C, loss =
/// -sum(target * log_softmax(logits)); an epsilon outside (0, 1) means no smoothing,
/// silently, as in PaddleClas.</item>
/// <item>without epsilon, hard labels: the usual cross entropy.</item>
/// <item>without epsilon, a soft target [N, C]: PaddleClas passes softmax(target) to
/// cross_entropy (a PaddleClas quirk, kept so mixup runs match); use <c>MixCELoss</c> for
/// plain soft-target cross entropy. A soft target with epsilon is smoothed, not softmaxed.</item>
/// </list>
/// </summary>
public sealed class CrossEntropyLoss(double? epsilon, LossReduction reduction = LossReduction.Mean) : IClassificationLoss
{
    public string Name => "CELoss";
    /// <summary>The label-smoothing epsilon in effect; null when none.</summary>
    public double? Epsilon { get; } = epsilon is > 0 and < 1 ? epsilon : null;
    public LossReduction Reduction { get; } = reduction;

    public Tensor Compute(Tensor logits, Tensor target)
    {
        long classes = logits.shape[^1];
        if (Epsilon is { } eps)
        {
            var smoothed = SoftTargets.Smooth(SoftTargets.Dense(target, classes, logits.dtype), eps, classes);
            return Reduction.Apply(SoftTargets.CrossEntropy(logits, smoothed));
        }
        if (SoftTargets.IsSoft(target, classes))
            return Reduction.Apply(SoftTargets.CrossEntropy(logits, target.to_type(logits.dtype).softmax(-1)));
        return nn.functional.cross_entropy(logits, SoftTargets.Ids(target), reduction: Reduction.ToTorch());
    }
}
