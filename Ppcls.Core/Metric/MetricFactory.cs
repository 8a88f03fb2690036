using Ppcls.Core.Config;

namespace Ppcls.Core.Metric;

/// <summary>
/// Builds a <see cref="MetricSet"/> from <c>Metric.Train</c> / <c>Metric.Eval</c> entries
/// (<c>- TopkAcc: {topk: [1, 5]}</c>); an unknown name lists the valid ones.
/// </summary>
public static class MetricFactory
{
    public static readonly string[] Names = ["TopkAcc", "DistillationTopkAcc", "Recallk", "mAP", "TprAtFpr"];

    /// <summary>The metric set, or null for an empty list.</summary>
    /// <param name="warn">Receives run-time warnings (k above the class count).</param>
    /// <param name="retrieval">How Recallk and mAP embed the images (Global's feature keys); the defaults without it.</param>
    public static MetricSet? Build(IReadOnlyList<NamedEntry> entries, Action<string> notice, Action<string> warn, RetrievalOptions? retrieval = null)
    {
        if (entries.Count == 0) return null;
        var metrics = new List<TopkAccuracy>();
        var datasetMetrics = new List<IDatasetMetric>();
        foreach (var entry in entries)
        {
            if (!Names.Contains(entry.Name))
                throw ConfigException.At(entry.Options.Path, entry.Options.Location,
                    $"unknown metric '{entry.Name}'; {KeySuggester.Hint(entry.Name, Names)}use one of: {string.Join(", ", Names)}");
            if (entry.Name is "mAP" or "TprAtFpr")
            {
                datasetMetrics.Add(entry.Name == "mAP" ? new RetrievalMetric(null, true, retrieval) : new TprAtFpr(entry.Options.Double("max_fpr", 0.001)));
                entry.Options.Finish(notice, ["descending"]);
                continue;
            }
            var topk = entry.Options.OptionalIntList("topk") ?? [1, 5];
            if (topk.Count == 0 || topk.Any(k => k < 1))
                throw ConfigException.At(entry.Options.KeyPath("topk"), entry.Options.Raw("topk")?.Location ?? entry.Options.Location,
                    "every k must be a positive integer, e.g. topk: [1, 5]");
            if (entry.Name == "Recallk")
            {
                entry.Options.Finish(notice, ["descending"]);
                datasetMetrics.Add(new RetrievalMetric(topk, false, retrieval));
                continue;
            }
            bool distillation = entry.Name == "DistillationTopkAcc";
            string? modelKey = distillation ? entry.Options.RequiredString("model_key", "\"Student\"") : null;
            string? featureKey = distillation ? entry.Options.OptionalString("feature_key") : null;
            entry.Options.Finish(notice);
            metrics.Add(new TopkAccuracy(topk, warn, modelKey, featureKey));
        }
        return new MetricSet(metrics, datasetMetrics);
    }
}
