using Ppcls.Core.Engine;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// A metric averaged over batches, weighted by batch size, as PaddleClas's AvgMetrics are (TopkAcc,
/// HammingDistance, AccuracyScore): each batch's logits and labels to its values by name.
/// </summary>
public interface IBatchMetric
{
    /// <summary>The model output it reads (DistillationTopkAcc's model_key / feature_key); null: the primary one.</summary>
    string? ModelKey { get; }
    string? FeatureKey { get; }

    /// <summary>The names the values are logged under, in order.</summary>
    IEnumerable<string> Names { get; }

    /// <summary>Whether it reads 0/1 label vectors (Global.use_multilabel) rather than class ids.</summary>
    bool MultiLabel { get; }

    /// <summary>Whether larger values are better (accuracy) or smaller ones (a distance).</summary>
    MetricDirection Direction { get; }

    IReadOnlyDictionary<string, double> Compute(Tensor logits, Tensor labels);
}
