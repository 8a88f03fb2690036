namespace Ppcls.Core.Metric;

/// <summary>
/// Named <see cref="AverageMeter"/>s in first-seen order (loss, CELoss, top1, top5, ...):
/// keep one for the epoch and one reset every <c>print_batch_step</c>.
/// </summary>
public sealed class AverageMeterSet
{
    readonly Dictionary<string, AverageMeter> _meters = new(StringComparer.Ordinal);
    readonly List<string> _order = [];

    public void Update(IReadOnlyDictionary<string, double> values, long batchSize)
    {
        foreach (var (name, value) in values) this[name].Update(value, batchSize);
    }

    public AverageMeter this[string name]
    {
        get
        {
            if (!_meters.TryGetValue(name, out var meter))
            {
                meter = new AverageMeter();
                _meters[name] = meter;
                _order.Add(name);
            }
            return meter;
        }
    }

    public IReadOnlyList<string> Names => _order;
    public bool Contains(string name) => _meters.ContainsKey(name);

    /// <summary>Each meter's batch-size-weighted average, in first-seen order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Averages =>
        _order.Select(n => KeyValuePair.Create(n, _meters[n].Average)).ToList();

    public void Reset()
    {
        foreach (var meter in _meters.Values) meter.Reset();
    }
}
