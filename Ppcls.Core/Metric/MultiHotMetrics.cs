using Ppcls.Core.Engine;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// PaddleClas <c>HammingDistance</c>: a label is predicted where sigmoid(logit) &gt; 0.5; the value is
/// the fraction of (image, label) entries where prediction and label differ (sklearn's hamming_loss).
/// Smaller is better: best_model follows the smallest value (PaddleClas keeps the largest).
/// </summary>
public sealed class HammingDistance : IBatchMetric
{
    public const string Name = "HammingDistance";
    public string? ModelKey => null;
    public string? FeatureKey => null;
    public IEnumerable<string> Names => [Name];
    public bool MultiLabel => true;
    public MetricDirection Direction => MetricDirection.LowerIsBetter;

    public IReadOnlyDictionary<string, double> Compute(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var (predicted, targets) = MultiHot.Binarize(logits, labels);
        return new Dictionary<string, double> { [Name] = predicted.ne(targets).to_type(ScalarType.Float64).mean().item<double>() };
    }
}

/// <summary>
/// PaddleClas <c>AccuracyScore</c> (<c>base</c>: label, the default, or sample), with predictions as
/// in HammingDistance: <c>label</c> is (TP + TN) / all entries over every class; <c>sample</c> the
/// fraction of images whose whole label vector is predicted exactly (sklearn's accuracy_score).
/// </summary>
public sealed class AccuracyScore(bool perSample) : IBatchMetric
{
    public const string Name = "AccuracyScore";
    public bool PerSample { get; } = perSample;
    public string? ModelKey => null;
    public string? FeatureKey => null;
    public IEnumerable<string> Names => [Name];
    public bool MultiLabel => true;
    public MetricDirection Direction => MetricDirection.HigherIsBetter;

    public IReadOnlyDictionary<string, double> Compute(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var (predicted, targets) = MultiHot.Binarize(logits, labels);
        var equal = predicted.eq(targets);
        double value = PerSample
            ? equal.all(1).to_type(ScalarType.Float64).mean().item<double>()
            : equal.to_type(ScalarType.Float64).mean().item<double>();
        return new Dictionary<string, double> { [Name] = value };
    }
}

static class MultiHot
{
    /// <summary>PaddleClas's MultiLabelMetric: sigmoid(logits) &gt; 0.5 as 0/1, beside the 0/1 targets.</summary>
    public static (Tensor Predicted, Tensor Targets) Binarize(Tensor logits, Tensor labels)
    {
        var targets = MultiLabelTargets.Of(labels).to_type(ScalarType.Float32);
        if (targets.shape[^1] != logits.shape[^1])
            throw new PpclsUserException($"multi-label metric: the model gives {logits.shape[^1]} outputs per image but the labels have {targets.shape[^1]}; " +
                "set Arch.class_num to the number of labels per line");
        return (logits.sigmoid().gt(0.5).to_type(ScalarType.Float32), targets);
    }
}
