using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// <c>Recallk</c> (<c>topk</c>) and <c>mAP</c> over the eval set as both query and gallery
/// (each image queries all the others; itself is masked out): the model's <c>features</c>
/// output, L2-normalised as PaddleClas's <c>feature_normalize</c> default does, compared by
/// cosine similarity.
/// </summary>
public sealed class RetrievalMetric(IReadOnlyList<int>? recallTopk, bool meanAveragePrecision, string featureKey = "features") : IDatasetMetric
{
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
        var features = output.Get(null, featureKey, "Metric: Recallk / mAP");
        _features.Add(nn.functional.normalize(features.detach(), dim: 1).cpu().DetachFromDisposeScope());
        _labels.Add(labels.reshape(-1).to_type(ScalarType.Int64).cpu().DetachFromDisposeScope());
    }

    public IReadOnlyDictionary<string, double> Result()
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (_features.Count == 0) return result;
        using var scope = NewDisposeScope();
        var features = cat(_features, 0);
        var labels = cat(_labels, 0);
        var similarity = features.matmul(features.t());
        var keep = eye(labels.shape[0], dtype: ScalarType.Bool).logical_not();
        if (recallTopk is not null)
            foreach (var (name, value) in Retrieval.Recall(similarity, labels, labels, keep, recallTopk)) result[name] = value;
        if (meanAveragePrecision) result["mAP"] = Retrieval.MeanAveragePrecision(similarity, labels, labels, keep);
        return result;
    }
}
