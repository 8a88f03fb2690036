using TorchSharp.Modules;

namespace Ppcls.Core.Optim;

/// <summary>One optimizer parameter group: the parameters sharing an LR multiplier and a decay coefficient.</summary>
public sealed record ParameterGroupSpec(double LearningRateMultiplier, double WeightDecay, IReadOnlyList<string> Names, IReadOnlyList<Parameter> Parameters);

/// <summary>Splits named parameters into groups by (LR multiplier, weight decay), in first-seen order.</summary>
public static class ParameterGrouping
{
    public static IReadOnlyList<ParameterGroupSpec> Plan(
        IEnumerable<(string Name, Parameter Parameter)> namedParameters,
        WeightDecayRule decay,
        IReadOnlyDictionary<string, double>? lrMultipliers)
    {
        var order = new List<(double Mult, double Decay)>();
        var groups = new Dictionary<(double, double), (List<string> Names, List<Parameter> Parameters)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, p) in namedParameters)
        {
            seen.Add(name);
            if (!p.requires_grad) continue;
            double mult = lrMultipliers is not null && lrMultipliers.TryGetValue(name, out var m) ? m : 1.0;
            var key = (mult, decay.For(name, p.shape));
            if (!groups.TryGetValue(key, out var g))
            {
                g = ([], []);
                groups[key] = g;
                order.Add(key);
            }
            g.Names.Add(name);
            g.Parameters.Add(p);
        }
        if (lrMultipliers is not null)
        {
            var unknown = lrMultipliers.Keys.Where(k => !seen.Contains(k)).Take(3).ToList();
            if (unknown.Count > 0)
                throw new InvalidOperationException($"learning-rate multipliers name parameters the model does not have: {string.Join(", ", unknown)}");
        }
        return order.Select(k => new ParameterGroupSpec(k.Mult, k.Decay, groups[k].Names, groups[k].Parameters)).ToList();
    }
}
