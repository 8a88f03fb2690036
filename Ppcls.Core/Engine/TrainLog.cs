using System.Globalization;
using System.Text;

namespace Ppcls.Core.Engine;

/// <summary>PaddleClas's log line shapes, so scripts that read PaddleClas logs read ours.</summary>
public static class TrainLog
{
    static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>`CELoss: 2.30258, loss: 2.30258, top1: 0.09375` (five decimals, as PaddleClas's meters print).</summary>
    public static string Values(IEnumerable<KeyValuePair<string, double>> values) =>
        string.Join(", ", values.Select(kv => $"{kv.Key}: {F(kv.Value, "F5")}"));

    /// <summary>`[Train][Epoch 1/10][Iter: 10/50]lr(Cosine): 0.09990000, CELoss: ..., batch_cost: 0.12345s, reader_cost: 0.00100, ips: 259.20000 samples/s, eta: 0:01:23`.</summary>
    public static string TrainStep(int epoch, int epochs, int iter, int iters, string scheduleName, double lr,
        IEnumerable<KeyValuePair<string, double>> values, double batchCost, double readerCost, int batchSize, TimeSpan eta)
    {
        var line = new StringBuilder($"[Train][Epoch {epoch}/{epochs}][Iter: {iter}/{iters}]lr({scheduleName}): {F(lr, "F8")}");
        string v = Values(values);
        if (v.Length > 0) line.Append(", ").Append(v);
        line.Append($", batch_cost: {F(batchCost, "F5")}s, reader_cost: {F(readerCost, "F5")}, ");
        line.Append($"ips: {F(batchCost > 0 ? batchSize / batchCost : 0, "F5")} samples/s, eta: {Eta(eta)}");
        return line.ToString();
    }

    public static string TrainAverage(int epoch, int epochs, IEnumerable<KeyValuePair<string, double>> values) =>
        $"[Train][Epoch {epoch}/{epochs}][Avg]{Values(values)}";

    public static string EvalStep(int epoch, int iter, int iters, IEnumerable<KeyValuePair<string, double>> values,
        double batchCost, double readerCost, int batchSize) =>
        $"[Eval][Epoch {epoch}][Iter: {iter}/{iters}]{Values(values)}, batch_cost: {F(batchCost, "F5")}s, " +
        $"reader_cost: {F(readerCost, "F5")}, ips: {F(batchCost > 0 ? batchSize / batchCost : 0, "F5")} images/sec";

    public static string EvalAverage(int epoch, IEnumerable<KeyValuePair<string, double>> values) =>
        $"[Eval][Epoch {epoch}][Avg]{Values(values)}";

    /// <summary>The `[Avg]` line with the whole-set metrics' own texts after the averaged values (`..., MultiLabelMAP(integral): 0.512`).</summary>
    public static string EvalAverage(int epoch, IEnumerable<KeyValuePair<string, double>> values, IEnumerable<string> metricTexts) =>
        $"[Eval][Epoch {epoch}][Avg]{string.Join(", ", new[] { Values(values) }.Concat(metricTexts).Where(t => t.Length > 0))}";

    public static string BestMetric(int epoch, double? best) => $"[Eval][Epoch {epoch}][best metric: {Best(best)}]";

    public static string BestMetricEma(int epoch, double? best) => $"[Eval][Epoch {epoch}][best metric ema: {Best(best)}]";

    static string Best(double? best) => best is { } value ? F(value, "R") : "none";

    /// <summary>Python's str(timedelta) for whole seconds: `0:01:23`, `2 days, 3:04:05`.</summary>
    public static string Eta(TimeSpan t)
    {
        long total = Math.Max(0, (long)t.TotalSeconds);
        long days = total / 86400, rest = total % 86400;
        string clock = $"{rest / 3600}:{rest % 3600 / 60:00}:{rest % 60:00}";
        return days == 0 ? clock : $"{days} day{(days == 1 ? "" : "s")}, {clock}";
    }
}
