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
/// <item>with <c>class_weights</c> w (a Ppcls addition, <see cref="ClassWeights"/>): each sample's
/// loss (smoothed or not, as above) is scaled by the weight of its class, sum_c target_c * w_c
/// (w_y for a hard label), and <c>mean</c> divides by the sum of those weights (the weighted mean,
/// as torch's cross_entropy with <c>weight</c>).</item>
/// </list>
/// </summary>
public sealed class CrossEntropyLoss(double? epsilon, LossReduction reduction = LossReduction.Mean, double[]? classWeights = null) : IClassificationLoss
{
    public string Name => "CELoss";
    /// <summary>The label-smoothing epsilon in effect; null when none.</summary>
    public double? Epsilon { get; } = epsilon is > 0 and < 1 ? epsilon : null;
    public LossReduction Reduction { get; } = reduction;
    /// <summary>Per-class weights; null when all classes weigh the same.</summary>
    public IReadOnlyList<double>? ClassWeights { get; } = classWeights;

    public Tensor Compute(Tensor logits, Tensor target)
    {
        long classes = logits.shape[^1];
        if (classWeights is not null) return Weighted(logits, target, classes, classWeights);
        if (Epsilon is { } eps)
        {
            var smoothed = SoftTargets.Smooth(SoftTargets.Dense(target, classes, logits.dtype), eps, classes);
            return Reduction.Apply(SoftTargets.CrossEntropy(logits, smoothed));
        }
        if (SoftTargets.IsSoft(target, classes))
            return Reduction.Apply(SoftTargets.CrossEntropy(logits, target.to_type(logits.dtype).softmax(-1)));
        return nn.functional.cross_entropy(logits, SoftTargets.Ids(target), reduction: Reduction.ToTorch());
    }

    Tensor Weighted(Tensor logits, Tensor target, long classes, double[] weights)
    {
        if (weights.Length != classes)
            throw new PpclsUserException($"CELoss.class_weights: {weights.Length} weights for a model with {classes} outputs; give one weight per class");
        var dense = SoftTargets.Dense(target, classes, logits.dtype);
        var sampleWeight = (dense * tensor(weights, dtype: logits.dtype, device: logits.device)).sum(-1);
        var perSample = Epsilon is { } eps
            ? SoftTargets.CrossEntropy(logits, SoftTargets.Smooth(dense, eps, classes))
            : SoftTargets.CrossEntropy(logits, SoftTargets.IsSoft(target, classes) ? dense.softmax(-1) : dense);
        var weighted = perSample * sampleWeight;
        return Reduction switch
        {
            LossReduction.Mean => weighted.sum() / sampleWeight.sum(),
            LossReduction.Sum => weighted.sum(),
            _ => weighted,
        };
    }
}
