using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>CombinedLoss</c>: every value of every term by its name, multiplied by the
/// term's weight, plus <c>loss</c>, the sum of those entries (what backward runs on). With a
/// single term PaddleClas ignores its weight: the values and <c>loss</c> are unweighted (where
/// that term logs several values, Ppcls sums them all; PaddleClas takes only the first). Two
/// values with the same name share one entry (the later wins) and only it is summed, as with
/// PaddleClas's dictionary.
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

    /// <summary>Whether any term reads the batch's labels.</summary>
    public bool UsesLabels => Terms.Any(t => t.Term.UsesLabels);

    /// <summary>For a single-output model's logits.</summary>
    public IReadOnlyDictionary<string, Tensor> Compute(Tensor logits, Tensor target) => Compute(ModelOutput.Single(logits), target);

    /// <summary>Each value by name plus <see cref="TotalKey"/>; tensors belong to the caller's dispose scope.</summary>
    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        bool single = Terms.Count == 1;
        foreach (var term in Terms)
            foreach (var (name, value) in term.Term.Compute(output, target))
                result[name] = single ? value : value * term.Weight;
        Tensor? total = null;
        foreach (var value in result.Values) total = total is null ? value : total + value;
        result[TotalKey] = total!;
        return result;
    }
}
