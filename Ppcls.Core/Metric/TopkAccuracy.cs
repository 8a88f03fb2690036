using Ppcls.Core.Engine;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// PaddleClas <c>TopkAcc</c>: for each k the fraction of samples whose label is among the k
/// highest logits, named <c>top1</c>, <c>top5</c>, ... Labels are class ids [N] or [N, 1];
/// a soft target [N, C] counts its arg-max class (a Ppcls extension). Where k exceeds the
/// class count PaddleClas reports 1 and warns once; so does this. As
/// <c>DistillationTopkAcc</c> it reads the output of <see cref="ModelKey"/> (and
/// <see cref="FeatureKey"/>); otherwise the model's primary output.
/// </summary>
public sealed class TopkAccuracy : IBatchMetric
{
    readonly Action<string> _warn;
    bool _warned;

    public TopkAccuracy(IReadOnlyList<int> topk, Action<string> warn, string? modelKey = null, string? featureKey = null)
    {
        if (topk.Count == 0) throw new ArgumentException("topk needs at least one k", nameof(topk));
        if (topk.Any(k => k < 1)) throw new ArgumentOutOfRangeException(nameof(topk), "every k must be at least 1");
        Topk = topk;
        _warn = warn;
        ModelKey = modelKey;
        FeatureKey = featureKey;
    }

    public IReadOnlyList<int> Topk { get; }
    public string? ModelKey { get; }
    public string? FeatureKey { get; }

    /// <summary>The names the values are logged under, in order: top1, top5, ...</summary>
    public IEnumerable<string> Names => Topk.Select(Name);
    public bool MultiLabel => false;
    public MetricDirection Direction => MetricDirection.HigherIsBetter;

    public static string Name(int k) => $"top{k}";

    public IReadOnlyDictionary<string, double> Compute(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long classes = logits.shape[^1];
        long n = logits.shape[0];
        var ids = labels.is_floating_point() && labels.dim() == 2 && labels.shape[1] == classes
            ? labels.argmax(1)
            : labels.reshape(-1).to_type(ScalarType.Int64);
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (int k in Topk)
        {
            if (k > classes)
            {
                if (!_warned) _warn($"The output dims({classes}) is less than k({k}), so the Top-{k} metric is meaningless.");
                _warned = true;
                result[Name(k)] = 1.0;
                continue;
            }
            var top = logits.topk(k, dim: 1).indexes;
            long hits = top.eq(ids.unsqueeze(1)).any(1).sum().item<long>();
            result[Name(k)] = n == 0 ? 0 : (double)hits / n;
        }
        return result;
    }
}
