using Ppcls.Core.Config;

namespace Ppcls.Core.Metric;

/// <summary>
/// Builds a <see cref="MetricSet"/> from <c>Metric.Train</c> / <c>Metric.Eval</c> entries
/// (<c>- TopkAcc: {topk: [1, 5]}</c>); an unknown name lists the valid ones.
/// </summary>
public static class MetricFactory
{
    /// <summary>What a metric's builder reads besides its options, and the lists it adds its metric to.</summary>
    internal sealed class Context(Action<string> notice, Action<string> warn, RetrievalOptions? retrieval)
    {
        public Action<string> Notice { get; } = notice;
        public Action<string> Warn { get; } = warn;
        public RetrievalOptions? Retrieval { get; } = retrieval;
        public List<IBatchMetric> Metrics { get; } = [];
        public List<IDatasetMetric> DatasetMetrics { get; } = [];
    }

    /// <summary>Reads one entry's options, finishes the section and adds the metric to <paramref name="context"/>.</summary>
    internal delegate void Builder(ConfigSection options, Context context);

    /// <summary>The metrics by their PaddleClas names.</summary>
    internal static NameTable<Builder> Metrics { get; } = CreateTable();

    /// <summary>PaddleClas's sort-order switch of the data-set metrics; the order is fixed here (accepted with a notice).</summary>
    static readonly string[] DescendingKey = ["descending"];

    static NameTable<Builder> CreateTable()
    {
        var t = new NameTable<Builder>("metric");
        t.Register("TopkAcc", (o, c) =>
        {
            var topk = Topk(o);
            o.Finish(c.Notice);
            c.Metrics.Add(new TopkAccuracy(topk, c.Warn));
        });
        t.Register("DistillationTopkAcc", (o, c) =>
        {
            var topk = Topk(o);
            string modelKey = o.RequiredString("model_key", "\"Student\"");
            string? featureKey = o.OptionalString("feature_key");
            o.Finish(c.Notice);
            c.Metrics.Add(new TopkAccuracy(topk, c.Warn, modelKey, featureKey));
        });
        t.Register("Recallk", (o, c) =>
        {
            var topk = Topk(o);
            o.Finish(c.Notice, DescendingKey);
            c.DatasetMetrics.Add(new RetrievalMetric(topk, false, c.Retrieval));
        });
        t.Register("mAP", (o, c) =>
        {
            c.DatasetMetrics.Add(new RetrievalMetric(null, true, c.Retrieval));
            o.Finish(c.Notice, DescendingKey);
        });
        t.Register("TprAtFpr", (o, c) =>
        {
            c.DatasetMetrics.Add(new TprAtFpr(o.Double("max_fpr", 0.001)));
            o.Finish(c.Notice, DescendingKey);
        });
        t.Register("ATTRMetric", (o, c) =>
        {
            c.DatasetMetrics.Add(new AttrMetric(o.Double("threshold", 0.5)));
            o.Finish(c.Notice);
        });
        t.Register("MultiLabelMAP", (o, c) =>
        {
            c.DatasetMetrics.Add(new MultiLabelMap(o.Choice("map_type", "integral", "integral", "11point")));
            o.Finish(c.Notice);
        });
        t.Register("HammingDistance", (o, c) =>
        {
            o.Finish(c.Notice);
            c.Metrics.Add(new HammingDistance());
        });
        t.Register("AccuracyScore", (o, c) =>
        {
            bool perSample = o.Choice("base", "label", "sample", "label") == "sample";
            o.Finish(c.Notice);
            c.Metrics.Add(new AccuracyScore(perSample));
        });
        return t;
    }

    /// <summary>The metric set, or null for an empty list.</summary>
    /// <param name="warn">Receives run-time warnings (k above the class count).</param>
    /// <param name="retrieval">How Recallk and mAP embed the images (Global's feature keys); the defaults without it.</param>
    public static MetricSet? Build(IReadOnlyList<NamedEntry> entries, Action<string> notice, Action<string> warn, RetrievalOptions? retrieval = null)
    {
        if (entries.Count == 0) return null;
        var context = new Context(notice, warn, retrieval);
        List<string> multiLabel = [], singleLabel = [];
        foreach (var entry in entries)
        {
            var build = Metrics.Get(entry.Name, entry.Options.Path, entry.Options.Location);
            int metrics = context.Metrics.Count, datasetMetrics = context.DatasetMetrics.Count;
            build(entry.Options, context);
            bool readsVectors = context.Metrics.Skip(metrics).Any(m => m.MultiLabel) || context.DatasetMetrics.Skip(datasetMetrics).Any(m => m.MultiLabel);
            (readsVectors ? multiLabel : singleLabel).Add(entry.Name);
        }
        return new MetricSet(context.Metrics, context.DatasetMetrics) { LabelKinds = (multiLabel, singleLabel) };
    }

    static IReadOnlyList<int> Topk(ConfigSection o)
    {
        var topk = o.OptionalIntList("topk") ?? [1, 5];
        return topk.Count > 0 && topk.All(k => k >= 1)
            ? topk
            : throw ConfigException.At(o.KeyPath("topk"), o.Raw("topk")?.Location ?? o.Location, "every k must be a positive integer, e.g. topk: [1, 5]");
    }
}
