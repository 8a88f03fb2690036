using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>The metrics of one list (<c>Metric.Train</c> or <c>Metric.Eval</c>), computed together.</summary>
public sealed class MetricSet(IReadOnlyList<TopkAccuracy> metrics, IReadOnlyList<IDatasetMetric>? datasetMetrics = null)
{
    public IReadOnlyList<TopkAccuracy> Metrics { get; } = metrics;
    /// <summary>Metrics over the whole eval set (Recallk, mAP, TprAtFpr); the evaluator feeds them.</summary>
    public IReadOnlyList<IDatasetMetric> DatasetMetrics { get; } = datasetMetrics ?? [];

    /// <summary>Every metric's values by name (top1, top5, ...).</summary>
    public IReadOnlyDictionary<string, double> Compute(Tensor logits, Tensor labels) => Compute(ModelOutput.Single(logits), labels);

    /// <summary>Every metric on the output it reads (its model_key / feature_key, else the primary one).</summary>
    public IReadOnlyDictionary<string, double> Compute(ModelOutput output, Tensor labels)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var metric in Metrics)
        {
            var input = output.Get(metric.ModelKey, metric.FeatureKey, "Metric: DistillationTopkAcc");
            foreach (var (name, value) in metric.Compute(input.detach(), labels)) result[name] = value;
        }
        return result;
    }
}
