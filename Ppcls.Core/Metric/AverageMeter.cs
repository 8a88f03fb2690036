namespace Ppcls.Core.Metric;

/// <summary>
/// PaddleClas <c>AverageMeter</c>: a running mean weighted by batch size
/// (sum += value * n, count += n), plus the last value for per-batch logs.
/// </summary>
public sealed class AverageMeter
{
    public double Sum { get; private set; }
    public long Count { get; private set; }
    public double Last { get; private set; }
    public double Average => Count == 0 ? 0 : Sum / Count;

    public void Update(double value, long n = 1)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must not be negative");
        Last = value;
        Sum += value * n;
        Count += n;
    }

    public void Reset()
    {
        Sum = 0;
        Count = 0;
        Last = 0;
    }
}
