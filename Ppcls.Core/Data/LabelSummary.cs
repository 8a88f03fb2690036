namespace Ppcls.Core.Data;

/// <summary>The class ids a labelled list file holds: how many distinct ones, and the largest.</summary>
public sealed record LabelSummary(string ListPath, int DistinctLabels, long MaxLabel)
{
    public static LabelSummary Of(string listPath, IEnumerable<long> labels)
    {
        var distinct = labels.ToHashSet();
        return new LabelSummary(listPath, distinct.Count, distinct.Count == 0 ? -1 : distinct.Max());
    }

    /// <summary>
    /// The warning for a training list with far fewer classes than <paramref name="classNum"/>:
    /// fewer than half (a label at or above class_num is an error already, found when the list is
    /// read). Not an error: fine-tuning on a subset of a larger label space is legitimate.
    /// <paramref name="listKey"/> names the config key that points at the list. Null when the
    /// count is plausible.
    /// </summary>
    public string? FewClassesWarning(int classNum, string listKey)
    {
        if (DistinctLabels == 0 || DistinctLabels * 2L >= classNum) return null;
        long needed = MaxLabel + 1;
        string fix = needed == DistinctLabels
            ? $"-o Arch.class_num={DistinctLabels}"
            : $"-o Arch.class_num={needed} (labels go up to {MaxLabel}), or relabel: True in the data set and -o Arch.class_num={DistinctLabels}";
        return $"{listKey}: {ListPath} has {DistinctLabels} distinct label{(DistinctLabels == 1 ? "" : "s")} but Arch.class_num is {classNum}, " +
            $"so {classNum - DistinctLabels} classifier outputs never see a training image; if this is not a subset on purpose, set {fix}";
    }
}
