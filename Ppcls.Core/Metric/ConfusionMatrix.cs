using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// Counts of (true class, predicted class) pairs: row = true class, column = the arg-max
/// prediction. Per-class precision, recall and support follow from it; recall is also a
/// class's accuracy (the fraction of its samples classified correctly).
/// </summary>
public sealed class ConfusionMatrix
{
    readonly long[,] _counts;

    public ConfusionMatrix(int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        ClassCount = classCount;
        _counts = new long[classCount, classCount];
    }

    public int ClassCount { get; }

    /// <summary>Samples counted so far.</summary>
    public long Total { get; private set; }

    /// <summary>How many samples of class <paramref name="truth"/> were predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => _counts[truth, predicted];

    public void Add(int truth, int predicted, long count = 1)
    {
        if ((uint)truth >= ClassCount || (uint)predicted >= ClassCount)
            throw new ArgumentOutOfRangeException(nameof(truth), $"class ids must be in [0, {ClassCount}); got true {truth}, predicted {predicted}");
        _counts[truth, predicted] += count;
        Total += count;
    }

    /// <summary>Counts a batch: <paramref name="logits"/> [N, C], <paramref name="labels"/> class ids [N] or [N, 1].</summary>
    public void Add(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (logits.dim() != 2 || logits.shape[1] != ClassCount)
            throw new ArgumentException($"expected logits [N, {ClassCount}], got [{string.Join(", ", logits.shape)}]", nameof(logits));
        long[] predicted = logits.argmax(1).cpu().data<long>().ToArray();
        long[] truth = labels.reshape(-1).to_type(ScalarType.Int64).cpu().data<long>().ToArray();
        if (truth.Length != predicted.Length)
            throw new ArgumentException($"{truth.Length} labels for {predicted.Length} predictions", nameof(labels));
        for (int i = 0; i < truth.Length; i++) Add((int)truth[i], (int)predicted[i]);
    }

    /// <summary>Samples whose true class is <paramref name="c"/> (the row sum).</summary>
    public long Support(int c)
    {
        long sum = 0;
        for (int j = 0; j < ClassCount; j++) sum += _counts[c, j];
        return sum;
    }

    /// <summary>Samples predicted as <paramref name="c"/> (the column sum).</summary>
    public long Predicted(int c)
    {
        long sum = 0;
        for (int i = 0; i < ClassCount; i++) sum += _counts[i, c];
        return sum;
    }

    /// <summary>Correct among those predicted as <paramref name="c"/>; 0 when nothing was predicted as c.</summary>
    public double Precision(int c) => Ratio(_counts[c, c], Predicted(c));

    /// <summary>Correct among the samples of class <paramref name="c"/>; 0 when the class has no samples.</summary>
    public double Recall(int c) => Ratio(_counts[c, c], Support(c));

    /// <summary>The diagonal over all samples: overall top-1.</summary>
    public double Accuracy
    {
        get
        {
            long correct = 0;
            for (int c = 0; c < ClassCount; c++) correct += _counts[c, c];
            return Ratio(correct, Total);
        }
    }

    /// <summary>The counts as a list of rows (row = true class).</summary>
    public long[][] Rows() =>
        Enumerable.Range(0, ClassCount).Select(i => Enumerable.Range(0, ClassCount).Select(j => _counts[i, j]).ToArray()).ToArray();

    static double Ratio(long part, long whole) => whole == 0 ? 0 : (double)part / whole;
}
