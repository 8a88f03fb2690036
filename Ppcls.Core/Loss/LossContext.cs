namespace Ppcls.Core.Loss;

/// <summary>
/// What a loss may need from the run beyond its own options: <c>Arch.class_num</c>, the training
/// list's images per class (CELoss's <c>class_weights: auto</c>) and where to log what it derived.
/// </summary>
public sealed record LossContext(int ClassNum, IReadOnlyDictionary<long, long>? TrainLabelCounts, string TrainListKey, Action<string> Log)
{
    /// <summary>No run around the loss (tests, `ppcls eval`): no class count and no training list.</summary>
    public static LossContext None { get; } = new(0, null, "", _ => { });
}
