using Ppcls.Core.Engine;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>The metrics of one list (<c>Metric.Train</c> or <c>Metric.Eval</c>), computed together.</summary>
public sealed class MetricSet(IReadOnlyList<IBatchMetric> metrics, IReadOnlyList<IDatasetMetric>? datasetMetrics = null)
{
    public IReadOnlyList<IBatchMetric> Metrics { get; } = metrics;
    /// <summary>Metrics over the whole eval set (Recallk, mAP, TprAtFpr, ATTRMetric, MultiLabelMAP); the evaluator feeds them.</summary>
    public IReadOnlyList<IDatasetMetric> DatasetMetrics { get; } = datasetMetrics ?? [];

    /// <summary>The config names of the metrics that read 0/1 label vectors, and of those that read class ids.</summary>
    public (IReadOnlyList<string> MultiLabel, IReadOnlyList<string> SingleLabel) LabelKinds { get; init; } = ([], []);

    /// <summary>The value names whose smaller values are better (HammingDistance).</summary>
    public IReadOnlySet<string> LowerIsBetter =>
        Metrics.Where(m => m.Direction == MetricDirection.LowerIsBetter).SelectMany(m => m.Names).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every metric's values by name (top1, top5, ...).</summary>
    public IReadOnlyDictionary<string, double> Compute(Tensor logits, Tensor labels) => Compute(ModelOutput.Single(logits), labels);

    /// <summary>
    /// Every metric on the output it reads (its model_key / feature_key, else the primary one). With
    /// <paramref name="softLabels"/> (a mixup batch's targets) only the multi-label metrics, which
    /// read such float targets by design, are computed, as PaddleClas skips metrics on mixed batches.
    /// </summary>
    public IReadOnlyDictionary<string, double> Compute(ModelOutput output, Tensor labels, bool softLabels = false)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var metric in Metrics)
        {
            if (softLabels && !metric.MultiLabel) continue;
            var input = output.Get(metric.ModelKey, metric.FeatureKey, "Metric: DistillationTopkAcc");
            foreach (var (name, value) in metric.Compute(input.detach(), labels)) result[name] = value;
        }
        return result;
    }
}
