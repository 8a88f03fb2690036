using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>The metrics of one list (<c>Metric.Train</c> or <c>Metric.Eval</c>), computed together.</summary>
public sealed class MetricSet(IReadOnlyList<TopkAccuracy> metrics)
{
    public IReadOnlyList<TopkAccuracy> Metrics { get; } = metrics;

    /// <summary>Every metric's values by name (top1, top5, ...).</summary>
    public IReadOnlyDictionary<string, double> Compute(Tensor logits, Tensor labels)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var metric in Metrics)
            foreach (var (name, value) in metric.Compute(logits, labels)) result[name] = value;
        return result;
    }
}
