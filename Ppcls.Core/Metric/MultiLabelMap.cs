using System.Globalization;
using Ppcls.Core.Distributed;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// PaddleClas <c>MultiLabelMAP</c>: per class, every eval image's sigmoid score ranked from high to
/// low (ties keep the images' order); precision_i = TP_i / (i + 1) and recall_i = TP_i / positives at
/// each rank; the class's AP is
/// <list type="bullet">
/// <item><c>integral</c> (default): the sum of precision_i x (recall_i - previous recall) over the
/// ranks where recall moves by more than 1e-6;</item>
/// <item><c>11point</c>: the mean over recall levels 0, 0.1, ..., 1 of the best precision at or
/// beyond that recall (PaddleDetection's walk, which PaddleClas copies).</item>
/// </list>
/// Classes without a positive image are left out; mAP is the mean of the rest. Logged as
/// PaddleClas does, <c>MultiLabelMAP(integral): 0.123</c>; the value is named <c>MultiLabelMAP</c>.
/// </summary>
public sealed class MultiLabelMap(string mapType = "integral") : IDatasetMetric
{
    public const string Name = "MultiLabelMAP";

    readonly MultiLabelRows _rows = new();

    public string MapType { get; } = mapType is "integral" or "11point" ? mapType : throw new ArgumentOutOfRangeException(nameof(mapType), mapType, "integral or 11point");
    public bool MultiLabel => true;

    public void Reset() => _rows.Clear();

    public void Add(ModelOutput output, Tensor labels)
    {
        using var scope = NewDisposeScope();
        _rows.Add(output.Primary.detach().sigmoid(), labels);
    }

    public IReadOnlyDictionary<string, double> Result(ICommunicator world)
    {
        var (scores, labels, width) = _rows.Gather(world);
        return new Dictionary<string, double>(StringComparer.Ordinal) { [Name] = Compute(scores, labels, width, MapType) };
    }

    public string AverageText(IReadOnlyDictionary<string, double> result) =>
        $"{Name}({MapType}): {result[Name].ToString("F3", CultureInfo.InvariantCulture)}";

    /// <summary>mAP of row-major scores and 0/1 labels of <paramref name="width"/> classes.</summary>
    public static double Compute(double[] scores, double[] labels, int width, string mapType)
    {
        int rows = width == 0 ? 0 : scores.Length / width;
        double sum = 0;
        int valid = 0;
        for (int j = 0; j < width; j++)
        {
            var ranked = Enumerable.Range(0, rows).OrderByDescending(i => scores[i * width + j]).ToArray();
            int positives = ranked.Count(i => (int)labels[i * width + j] == 1);
            if (positives == 0) continue;
            var precision = new double[rows];
            var recall = new double[rows];
            int tp = 0;
            for (int r = 0; r < rows; r++)
            {
                if ((int)labels[ranked[r] * width + j] == 1) tp++;
                precision[r] = (double)tp / (r + 1);
                recall[r] = (double)tp / positives;
            }
            sum += mapType == "11point" ? ElevenPoint(precision, recall) : Integral(precision, recall);
            valid++;
        }
        return valid > 0 ? sum / valid : sum;
    }

    static double Integral(double[] precision, double[] recall)
    {
        double ap = 0, previous = 0;
        for (int i = 0; i < precision.Length; i++)
        {
            double gap = Math.Abs(recall[i] - previous);
            if (gap <= 1e-6) continue;
            ap += precision[i] * gap;
            previous = recall[i];
        }
        return ap;
    }

    static double ElevenPoint(double[] precision, double[] recall)
    {
        var best = new double[11];
        int start = precision.Length - 1;
        for (int level = 10; level >= 0; level--)
            for (int i = start; i >= 0; i--)
            {
                if (recall[i] < level / 10.0)
                {
                    start = i;
                    if (level > 0) best[level - 1] = best[level];
                    break;
                }
                if (best[level] < precision[i]) best[level] = precision[i];
            }
        return best.Sum() / 11;
    }
}
