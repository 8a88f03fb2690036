using Ppcls.Core.Distributed;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// PaddleClas <c>TprAtFpr</c> for binary classifiers: the positive-class probability
/// (softmax[:, 1]) of every eval image is kept; over thresholds 0, 0.0001, ..., 0.9999 a score
/// above the threshold is a positive call, TPR = TP / (TP + FN) and FPR = FP / (FP + TN), and the
/// threshold with the highest TPR whose FPR is at most <c>max_fpr</c> is reported as
/// <c>tpr</c>, <c>fpr</c> and <c>threshold</c> (all 0 when none qualifies).
/// </summary>
public sealed class TprAtFpr(double maxFpr = 0.001) : IDatasetMetric
{
    const int Thresholds = 10000;
    readonly List<double> _positive = [];
    readonly List<double> _negative = [];

    public void Reset()
    {
        _positive.Clear();
        _negative.Clear();
    }

    public void Add(ModelOutput output, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var scores = output.Primary.detach().softmax(-1).select(1, 1).to_type(ScalarType.Float64).contiguous().cpu().data<double>().ToArray();
        var ids = labels.reshape(-1).to_type(ScalarType.Int64).cpu().data<long>().ToArray();
        for (int i = 0; i < ids.Length; i++) (ids[i] == 0 ? _negative : _positive).Add(scores[i]);
    }

    public IReadOnlyDictionary<string, double> Result(ICommunicator world)
    {
        double bestTpr = 0, bestFpr = 0, bestThreshold = 0;
        var positive = RankGather.Values(world, _positive);
        var negative = RankGather.Values(world, _negative);
        if (positive.Length > 0)
            for (int i = 0; i < Thresholds; i++)
            {
                double threshold = (double)i / Thresholds;
                var (tpr, fpr) = Rates(positive, negative, threshold);
                if (fpr <= maxFpr && tpr > bestTpr) (bestTpr, bestFpr, bestThreshold) = (tpr, fpr, threshold);
            }
        return new Dictionary<string, double>(StringComparer.Ordinal) { ["tpr"] = bestTpr, ["fpr"] = bestFpr, ["threshold"] = bestThreshold };
    }

    /// <summary>TPR = TP / (TP + FN) over the positives' scores, FPR = FP / (FP + TN) over the negatives' (0 without negatives).</summary>
    public static (double Tpr, double Fpr) Rates(IReadOnlyList<double> positiveScores, IReadOnlyList<double> negativeScores, double threshold)
    {
        double tpr = positiveScores.Count == 0 ? 0 : (double)positiveScores.Count(s => s > threshold) / positiveScores.Count;
        double fpr = negativeScores.Count == 0 ? 0 : (double)negativeScores.Count(s => s > threshold) / negativeScores.Count;
        return (tpr, fpr);
    }
}
