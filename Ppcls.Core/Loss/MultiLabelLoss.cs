using Ppcls.Core.Metric;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>MultiLabelLoss</c>: binary cross entropy with logits of every (image, label) entry.
/// <list type="bullet">
/// <item>the target is the 0/1 vector [N, C], or the first row of MultiLabelDataset's [N, 2, C]
/// (label_ratio);</item>
/// <item><c>epsilon</c> in (0, 1) smooths it to (1 - eps) t + eps / C (outside that range: no smoothing,
/// silently, as in PaddleClas);</item>
/// <item><c>weight_ratio</c> weighs each entry by exp(r_j) for a negative and exp(1 - r_j) for a
/// positive (positive: smoothed target &gt; 0.5), r_j the label's positive ratio from the second row,
/// and by 0 where the smoothed target is -1 or less (ignored labels); it needs
/// <c>label_ratio: True</c> in the data set;</item>
/// <item><c>size_sum</c> sums each image's entries before the batch mean; otherwise every entry is averaged.</item>
/// </list>
/// </summary>
public sealed class MultiLabelLoss(double? epsilon, bool sizeSum, bool weightRatio) : IClassificationLoss
{
    public string Name => "MultiLabelLoss";
    /// <summary>The label-smoothing epsilon in effect; null when none.</summary>
    public double? Epsilon { get; } = epsilon is > 0 and < 1 ? epsilon : null;
    public bool SizeSum { get; } = sizeSum;
    public bool WeightRatio { get; } = weightRatio;

    public Tensor Compute(Tensor logits, Tensor target)
    {
        if (WeightRatio && target.dim() != 3)
            throw new PpclsUserException("MultiLabelLoss: weight_ratio: True weighs labels by their positive ratio, which the data set gives only with label_ratio: True; " +
                "add label_ratio: True to the MultiLabelDataset or set weight_ratio: False");
        long classes = logits.shape[^1];
        var labels = MultiLabelTargets.Of(target).to_type(logits.dtype);
        if (labels.shape[^1] != classes)
            throw new PpclsUserException($"MultiLabelLoss: the model gives {classes} outputs per image but the labels have {labels.shape[^1]}; set Arch.class_num to the number of labels per line");
        if (Epsilon is { } eps) labels = SoftTargets.Smooth(labels, eps, classes);
        var cost = nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction: nn.Reduction.None);
        if (WeightRatio) cost = cost * RatioWeights(labels, target.select(1, 1).to_type(logits.dtype));
        return SizeSum ? cost.sum(1).mean() : cost.mean();
    }

    /// <summary>
    /// PaddleClas's ratio2weight: exp(1 - r) for a positive label (&gt; 0.5), exp(r) for a negative one,
    /// 0 where the label is -1 or less (ignored), r the label's positive ratio.
    /// </summary>
    public static Tensor RatioWeights(Tensor labels, Tensor ratio)
    {
        var positive = labels.gt(0.5).to_type(ratio.dtype);
        return (positive * (1 - ratio) + (1 - positive) * ratio).exp() * labels.gt(-1).to_type(ratio.dtype);
    }
}
