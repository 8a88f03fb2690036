using Ppcls.Core.Loss;

namespace Ppcls.Core.Engine;

/// <summary>Whether a larger value of a metric is better (accuracy, recall) or a smaller one (loss).</summary>
public enum MetricDirection { HigherIsBetter, LowerIsBetter }

/// <summary>
/// What an eval pass measured: every averaged value by name (in first-seen order), and the
/// primary metric that decides `best_model`, with its direction. As in PaddleClas the primary
/// metric is the first metric the config lists (top1 of TopkAcc, recall1 of Recallk, ...);
/// without any metric it is the eval loss, lower being better.
/// </summary>
public sealed record EvalResult(IReadOnlyDictionary<string, double> Values, string? MetricName, MetricDirection Direction)
{
    public double this[string name] => Values[name];

    /// <summary>The primary metric's value; null when the pass had neither a metric nor a loss.</summary>
    public double? Metric => MetricName is null ? null : Values[MetricName];

    /// <summary>
    /// The result of values whose metric names are <paramref name="metricNames"/> (in the order the
    /// config lists them); names in <paramref name="lowerIsBetter"/> (HammingDistance) are better when smaller.
    /// </summary>
    public static EvalResult Of(IReadOnlyDictionary<string, double> values, IEnumerable<string> metricNames, IReadOnlySet<string>? lowerIsBetter = null)
    {
        if (metricNames.FirstOrDefault(values.ContainsKey) is { } metric)
            return new EvalResult(values, metric, lowerIsBetter?.Contains(metric) == true ? MetricDirection.LowerIsBetter : MetricDirection.HigherIsBetter);
        return values.ContainsKey(CombinedLoss.TotalKey)
            ? new EvalResult(values, CombinedLoss.TotalKey, MetricDirection.LowerIsBetter)
            : new EvalResult(values, null, MetricDirection.HigherIsBetter);
    }

    /// <summary>Whether <paramref name="value"/> is at least as good as <paramref name="best"/> (ties count, as PaddleClas's `>=`; no best yet: true).</summary>
    public bool AtLeastAsGood(double? value, double? best) =>
        best is null || value is null || (Direction == MetricDirection.HigherIsBetter ? value >= best : value <= best);

    /// <summary>Whether <paramref name="value"/> beats <paramref name="best"/> strictly (no best yet: true).</summary>
    public bool Better(double? value, double? best) => AtLeastAsGood(value, best) && value != best;

    /// <summary>The better of two values (either may be missing).</summary>
    public double? Best(double? a, double? b) => a is null ? b : b is null ? a : AtLeastAsGood(a, b) ? a : b;
}
