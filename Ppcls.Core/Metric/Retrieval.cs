using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// PaddleClas's retrieval metrics on a [queries, gallery] similarity matrix (higher is closer):
/// gallery items are ranked per query; <paramref name="keepMask"/> [queries, gallery] drops
/// pairs (a query itself when query and gallery are one set): they rank last and never match. Queries without any relevant
/// gallery item are left out, as PaddleClas does.
/// </summary>
public static class Retrieval
{
    /// <summary>Recall@k (PaddleClas <c>Recallk</c>, the CMC curve): the share of queries with a same-label item among their k nearest.</summary>
    public static IReadOnlyDictionary<string, double> Recall(Tensor similarity, Tensor queryLabels, Tensor galleryLabels, Tensor? keepMask, IReadOnlyList<int> topk)
    {
        using var scope = NewDisposeScope();
        var relevant = Relevance(similarity, queryLabels, galleryLabels, keepMask);
        var answered = relevant.sum(1).gt(0);
        double queries = answered.sum().item<long>();
        var found = relevant.cumsum(1).gt(0).to_type(ScalarType.Float64).sum(dim: 0);
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (int k in topk)
            result[$"recall{k}"] = queries == 0 ? double.NaN : found[Math.Min(k, found.shape[0]) - 1].item<double>() / queries;
        return result;
    }

    /// <summary>mAP (PaddleClas <c>mAP</c>): per query the mean of precision@rank over the ranks of its relevant items, averaged.</summary>
    public static double MeanAveragePrecision(Tensor similarity, Tensor queryLabels, Tensor galleryLabels, Tensor? keepMask)
    {
        using var scope = NewDisposeScope();
        var relevant = Relevance(similarity, queryLabels, galleryLabels, keepMask);
        var rows = relevant.sum(1).gt(0).nonzero().reshape(-1);
        if (rows.shape[0] == 0) return double.NaN;
        relevant = relevant.index_select(0, rows);
        var ranks = arange(1, relevant.shape[1] + 1, dtype: ScalarType.Float64);
        var precision = relevant.cumsum(1) / ranks;
        var averagePrecision = (precision * relevant).sum(1) / relevant.sum(1);
        return averagePrecision.mean().item<double>();
    }

    /// <summary>The keep mask of a set queried against itself: every pair but an image with itself.</summary>
    public static Tensor WithoutSelf(long count) => eye(count, dtype: ScalarType.Bool).logical_not();

    /// <summary>[queries, gallery] as float64: 1 where the gallery item at that rank shares the query's label (and is kept).</summary>
    static Tensor Relevance(Tensor similarity, Tensor queryLabels, Tensor galleryLabels, Tensor? keepMask)
    {
        // Dropped pairs rank last and never count.
        if (keepMask is not null) similarity = similarity.masked_fill(keepMask.logical_not(), double.NegativeInfinity);
        var order = similarity.argsort(1, descending: true);
        var rankedLabels = galleryLabels.reshape(-1).index_select(0, order.reshape(-1)).reshape(order.shape);
        var same = rankedLabels.eq(queryLabels.reshape(-1, 1));
        if (keepMask is not null) same = same.logical_and(keepMask.gather(1, order));
        return same.to_type(ScalarType.Float64);
    }
}
