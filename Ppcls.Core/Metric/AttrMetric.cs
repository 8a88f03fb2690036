using System.Globalization;
using Ppcls.Core.Distributed;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// PaddleClas <c>ATTRMetric</c> (pedestrian / vehicle attributes), over the whole eval set. A
/// prediction is positive where the model's output exceeds <c>threshold</c>; PaddleClas compares
/// the raw output (the logits, no sigmoid) and so does this, so numbers match. Labels of -1 are
/// ignored; a label of 2 (RAP) counts as neither positive nor negative.
/// <list type="bullet">
/// <item>per attribute j: positive recall TP/(P+eps), negative recall TN/(N+eps); <c>ma</c> is the
/// mean over attributes of their average; <c>label_pos_recall</c>, <c>label_neg_recall</c> the means;
/// <c>label_f1</c> the mean over j of 2 prec_j R / (prec_j + R + eps) with prec_j = TP/(TP+FP+eps) and
/// R the MEAN positive recall (PaddleClas's order of assignments, kept);</item>
/// <item>per image i: acc = |G∩P|/(|G∪P|+eps), prec = |G∩P|/(|P|+eps), recall = |G∩P|/(|G|+eps),
/// averaged over images; <c>instance_f1</c> = 2 prec recall / (prec + recall + eps) of those means.</item>
/// </list>
/// eps = 1e-20. The primary value is <c>ma</c>. Logged as PaddleClas does:
/// <c>evalres: ma: 0.81234 label_f1: ... instance_recall: 0.70000</c>.
/// </summary>
public sealed class AttrMetric(double threshold = 0.5) : IDatasetMetric
{
    const double Eps = 1e-20;

    /// <summary>The values in PaddleClas's order (attr_res()).</summary>
    public static readonly string[] Names =
        ["ma", "label_f1", "label_pos_recall", "label_neg_recall", "instance_f1", "instance_acc", "instance_prec", "instance_recall"];

    readonly MultiLabelRows _rows = new();

    public double Threshold { get; } = threshold;
    public bool MultiLabel => true;
    public bool AverageTextAlone => true;

    public void Reset() => _rows.Clear();

    public void Add(ModelOutput output, Tensor labels) => _rows.Add(output.Primary, labels);

    public IReadOnlyDictionary<string, double> Result(ICommunicator world)
    {
        var (scores, labels, width) = _rows.Gather(world);
        return Compute(scores, labels, width, Threshold);
    }

    /// <summary>The eight values from row-major outputs and labels of <paramref name="width"/> attributes.</summary>
    public static IReadOnlyDictionary<string, double> Compute(double[] outputs, double[] labels, int width, double threshold)
    {
        int rows = width == 0 ? 0 : labels.Length / width;
        var gtPos = new double[width];
        var gtNeg = new double[width];
        var tp = new double[width];
        var tn = new double[width];
        var fp = new double[width];
        double acc = 0, prec = 0, recall = 0;
        for (int i = 0; i < rows; i++)
        {
            double gtIns = 0, predIns = 0, intersect = 0, union = 0;
            for (int j = 0; j < width; j++)
            {
                double gt = labels[i * width + j];
                int pred = gt == -1 ? -1 : outputs[i * width + j] > threshold ? 1 : 0;
                bool g1 = gt == 1, g0 = gt == 0;
                if (g1) gtPos[j]++;
                if (g0) gtNeg[j]++;
                if (g1 && pred == 1) tp[j]++;
                if (g0 && pred == 0) tn[j]++;
                if (g0 && pred == 1) fp[j]++;
                if (g1) gtIns++;
                if (pred == 1) predIns++;
                if (g1 && pred == 1) intersect++;
                if (g1 || pred == 1) union++;
            }
            acc += intersect / (union + Eps);
            prec += intersect / (predIns + Eps);
            recall += intersect / (gtIns + Eps);
        }
        double ma = 0, posRecall = 0, negRecall = 0;
        for (int j = 0; j < width; j++)
        {
            double pr = tp[j] / (gtPos[j] + Eps), nr = tn[j] / (gtNeg[j] + Eps);
            ma += (pr + nr) / 2;
            posRecall += pr;
            negRecall += nr;
        }
        double n = Math.Max(width, 1);
        (ma, posRecall, negRecall) = (ma / n, posRecall / n, negRecall / n);
        double f1 = 0;
        for (int j = 0; j < width; j++)
        {
            double p = tp[j] / (tp[j] + fp[j] + Eps);
            f1 += 2 * p * posRecall / (p + posRecall + Eps);
        }
        f1 /= n;
        double m = Math.Max(rows, 1);
        (acc, prec, recall) = (acc / m, prec / m, recall / m);
        double instanceF1 = 2 * prec * recall / (prec + recall + Eps);
        double[] values = [ma, f1, posRecall, negRecall, instanceF1, acc, prec, recall];
        return Names.Select((name, k) => (name, k)).ToDictionary(p => p.name, p => values[p.k], StringComparer.Ordinal);
    }

    public string AverageText(IReadOnlyDictionary<string, double> result) =>
        "evalres: " + string.Join(" ", Names.Select(name => $"{name}: {result[name].ToString("F5", CultureInfo.InvariantCulture)}"));
}
