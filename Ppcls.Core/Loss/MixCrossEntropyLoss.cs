using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// <c>MixCELoss</c>: cross entropy against the target as given, -sum(target *
/// log_softmax(logits)), for mixup/cutmix soft targets [N, C] (lam * one_hot(a) + (1 - lam)
/// * one_hot(b), which equals lam * CE(a) + (1 - lam) * CE(b)); hard labels work too.
/// Optional <c>epsilon</c> smooths the target first. PaddleClas has retired this name
/// (its CELoss softmaxes soft targets); Ppcls keeps it as the plain soft-target loss.
/// </summary>
public sealed class MixCrossEntropyLoss(double? epsilon, LossReduction reduction = LossReduction.Mean) : IClassificationLoss
{
    public string Name => "MixCELoss";
    public double? Epsilon { get; } = epsilon is > 0 and < 1 ? epsilon : null;
    public LossReduction Reduction { get; } = reduction;

    public Tensor Compute(Tensor logits, Tensor target)
    {
        long classes = logits.shape[^1];
        var dense = SoftTargets.Dense(target, classes, logits.dtype);
        if (Epsilon is { } eps) dense = SoftTargets.Smooth(dense, eps, classes);
        return Reduction.Apply(SoftTargets.CrossEntropy(logits, dense));
    }
}
