namespace Ppcls.Core.Data;

/// <summary>
/// The class ids a list file holds: how many distinct ones, and the largest. A list of paths
/// without labels (<see cref="Unlabeled"/>, label -1 each) can feed losses that need none,
/// such as SSLD's DistillationCELoss.
/// </summary>
public sealed record LabelSummary(string ListPath, int DistinctLabels, long MaxLabel)
{
    public const long NoLabel = -1;

    public bool Unlabeled { get; init; }

    /// <summary>Images per label (CELoss's class_weights: auto).</summary>
    public IReadOnlyDictionary<long, long> ClassCounts { get; init; } = new Dictionary<long, long>();
    /// <summary>Whether each image has a 0/1 vector of <see cref="DistinctLabels"/> labels (MultiLabelDataset) rather than a class id.</summary>
    public bool MultiLabel { get; init; }

    /// <summary>The config key that points at the list (`DataLoader.Train.dataset.cls_label_path`), set by the data set that read it.</summary>
    public string ListKey { get; init; } = "the list file";

    public static LabelSummary Of(string listPath, IEnumerable<long> labels)
    {
        var counts = labels.GroupBy(l => l).ToDictionary(g => g.Key, g => (long)g.Count());
        if (counts.Count == 1 && counts.ContainsKey(NoLabel)) return new LabelSummary(listPath, 0, NoLabel) { Unlabeled = true };
        return new LabelSummary(listPath, counts.Count, counts.Count == 0 ? -1 : counts.Keys.Max()) { ClassCounts = counts };
    }

    /// <summary>
    /// The warning for a training list with far fewer classes than <paramref name="classNum"/>:
    /// fewer than half (a label at or above class_num is an error already, found when the list is
    /// read). Not an error: fine-tuning on a subset of a larger label space is legitimate.
    /// <see cref="ListKey"/> names the config key that points at the list. Null when the
    /// count is plausible.
    /// </summary>
    public string? FewClassesWarning(int classNum)
    {
        if (MultiLabel || DistinctLabels == 0 || DistinctLabels * 2L >= classNum) return null;
        long needed = MaxLabel + 1;
        string fix = needed == DistinctLabels
            ? $"-o Arch.class_num={DistinctLabels}"
            : $"-o Arch.class_num={needed} (labels go up to {MaxLabel}), or relabel: True in the data set and -o Arch.class_num={DistinctLabels}";
        return $"{ListKey}: {ListPath} has {DistinctLabels} distinct label{(DistinctLabels == 1 ? "" : "s")} but Arch.class_num is {classNum}, " +
            $"so {classNum - DistinctLabels} classifier outputs never see a training image; if this is not a subset on purpose, set {fix}";
    }
}
