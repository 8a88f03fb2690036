using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>CombinedLoss</c>: every term by its name, multiplied by its weight, plus
/// <c>loss</c>, the sum of those entries (what backward runs on). With a single term
/// PaddleClas ignores its weight: the term and <c>loss</c> are the unweighted value. Two
/// terms with the same name share one entry (the later wins) and only it is summed, as
/// with PaddleClas's dictionary.
/// </summary>
public sealed class CombinedLoss
{
    public const string TotalKey = "loss";

    public CombinedLoss(IReadOnlyList<WeightedLoss> terms)
    {
        if (terms.Count == 0) throw new ArgumentException("a combined loss needs at least one term", nameof(terms));
        Terms = terms;
    }

    public IReadOnlyList<WeightedLoss> Terms { get; }

    /// <summary>Each term by name plus <see cref="TotalKey"/>; tensors belong to the caller's dispose scope.</summary>
    public IReadOnlyDictionary<string, Tensor> Compute(Tensor logits, Tensor target)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        if (Terms.Count == 1)
        {
            var only = Terms[0].Loss;
            var value = only.Compute(logits, target);
            result[only.Name] = value;
            result[TotalKey] = value;
            return result;
        }
        foreach (var term in Terms)
            result[term.Loss.Name] = term.Loss.Compute(logits, target) * term.Weight;
        Tensor? total = null;
        foreach (var value in result.Values) total = total is null ? value : total + value;
        result[TotalKey] = total!;
        return result;
    }
}
