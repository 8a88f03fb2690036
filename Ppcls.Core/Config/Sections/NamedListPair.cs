namespace Ppcls.Core.Config.Sections;

/// <summary>
/// A Train/Eval pair of PaddleClas single-key lists (`Loss`, `Metric`): e.g.
/// `Train: [- CELoss: {epsilon: 0.1}]`. The named entries' options are read by the
/// registries that build them.
/// </summary>
public sealed record NamedListPair(IReadOnlyList<NamedEntry> Train, IReadOnlyList<NamedEntry> Eval)
{
    public static readonly NamedListPair None = new([], []);

    public static NamedListPair Read(ConfigSection s, Action<string> notice)
    {
        var pair = new NamedListPair(s.OptionalNamedList("Train") ?? [], s.OptionalNamedList("Eval") ?? []);
        s.Finish(notice);
        return pair;
    }
}
