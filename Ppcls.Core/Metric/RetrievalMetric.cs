using Ppcls.Core.Distributed;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// PaddleClas's <c>Recallk</c> (<c>topk</c>) or <c>mAP</c>. Under `Global.eval_mode: retrieval`
/// the retrieval evaluator calls <see cref="Score"/> on its query x gallery similarities. As a
/// plain eval metric (the fallback without Gallery/Query loaders) it collects the eval set's
/// embeddings (<see cref="RetrievalOptions"/>) and lets each image query all the others
/// (itself left out); under mpirun the embeddings of every rank are gathered first.
/// </summary>
public sealed class RetrievalMetric(IReadOnlyList<int>? recallTopk, bool meanAveragePrecision, RetrievalOptions? options = null) : IDatasetMetric
{
    readonly RetrievalOptions _options = options ?? RetrievalOptions.Default;
    readonly List<Tensor> _features = [];
    readonly List<Tensor> _labels = [];

    public void Reset()
    {
        foreach (var t in _features.Concat(_labels)) t.Dispose();
        _features.Clear();
        _labels.Clear();
    }

    public void Add(ModelOutput output, Tensor labels)
    {
        _features.Add(_options.Embed(output).DetachFromDisposeScope());
        _labels.Add(labels.reshape(-1).to_type(ScalarType.Float32).cpu().DetachFromDisposeScope());
    }

    public IReadOnlyDictionary<string, double> Result(ICommunicator world)
    {
        if (_features.Count == 0) return new Dictionary<string, double>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        var features = RankGather.Batches(world, _features);
        var labels = RankGather.Batches(world, _labels).to_type(ScalarType.Int64);
        var similarity = features.matmul(features.t());
        return Score(similarity, labels, labels, Retrieval.WithoutSelf(labels.shape[0]));
    }

    /// <summary>recall{k} for each k, or mAP, of a [queries, gallery] similarity matrix; <paramref name="keepMask"/> drops pairs (see <see cref="Retrieval"/>).</summary>
    public IReadOnlyDictionary<string, double> Score(Tensor similarity, Tensor queryLabels, Tensor galleryLabels, Tensor? keepMask)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (recallTopk is not null)
            foreach (var (name, value) in Retrieval.Recall(similarity, queryLabels, galleryLabels, keepMask, recallTopk)) result[name] = value;
        if (meanAveragePrecision) result["mAP"] = Retrieval.MeanAveragePrecision(similarity, queryLabels, galleryLabels, keepMask);
        return result;
    }
}
