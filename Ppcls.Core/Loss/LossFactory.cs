using Ppcls.Core.Config;

namespace Ppcls.Core.Loss;

/// <summary>
/// Builds a <see cref="CombinedLoss"/> from <c>Loss.Train</c> / <c>Loss.Eval</c> entries
/// (<c>- CELoss: {weight: 1.0, epsilon: 0.1}</c>). Every entry needs <c>weight</c>, as in
/// PaddleClas; an unknown name lists the valid ones.
/// </summary>
public static class LossFactory
{
    delegate IClassificationLoss Builder(ConfigSection options);

    static readonly Dictionary<string, Builder> Builders = new(StringComparer.Ordinal)
    {
        ["CELoss"] = o => new CrossEntropyLoss(o.OptionalDouble("epsilon"), Reduction(o)),
        ["MixCELoss"] = o => new MixCrossEntropyLoss(o.OptionalDouble("epsilon"), Reduction(o)),
    };

    public static IReadOnlyCollection<string> Names => Builders.Keys;

    /// <summary>The combined loss, or null for an empty list (no Eval loss, say).</summary>
    public static CombinedLoss? Build(IReadOnlyList<NamedEntry> entries, Action<string> notice)
    {
        if (entries.Count == 0) return null;
        var terms = new List<WeightedLoss>();
        foreach (var entry in entries)
        {
            if (!Builders.TryGetValue(entry.Name, out var build))
            {
                var valid = Builders.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
                throw ConfigException.At(entry.Options.Path, entry.Options.Location,
                    $"unknown loss '{entry.Name}'; {KeySuggester.Hint(entry.Name, valid)}use one of: {string.Join(", ", valid)}");
            }
            double weight = entry.Options.RequiredDouble("weight", "1.0");
            var loss = build(entry.Options);
            entry.Options.Finish(notice);
            terms.Add(new WeightedLoss(loss, weight));
        }
        return new CombinedLoss(terms);
    }

    static LossReduction Reduction(ConfigSection o) =>
        LossReductionExtensions.Parse(o.Choice("reduction", "mean", "mean", "sum", "none"));
}
