using Ppcls.Core;

namespace Ppcls.Data.Datasets;

/// <summary>
/// What the list-file data sets share when they read a list: every bad line is collected as
/// `file:line: problem` and reported at once (the first <see cref="MaxListed"/>), long fields are
/// shortened for the message, and `relabel` maps the distinct labels to 0..K-1 in ascending order.
/// </summary>
static class ListProblems
{
    public const int MaxListed = 20;

    public static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";

    /// <summary>
    /// Throws one error naming <paramref name="listPath"/> and the first problems, when there are any;
    /// <paramref name="hint"/> (a line starting with "\n  ") follows them.
    /// </summary>
    public static void ThrowIfAny(IReadOnlyList<string> problems, string listPath, string listName, string hint = "")
    {
        if (problems.Count == 0) return;
        string more = problems.Count > MaxListed ? $"\n  ... and {problems.Count - MaxListed} more" : "";
        throw new PpclsUserException(
            $"{listPath}: {problems.Count} problem{(problems.Count == 1 ? "" : "s")} in the {listName}:\n  {string.Join("\n  ", problems.Take(MaxListed))}{more}{hint}");
    }

    /// <summary>Maps <paramref name="labels"/> in place to 0..K-1 in ascending order of the old labels; returns K.</summary>
    public static int Relabel(List<long> labels)
    {
        var map = labels.Distinct().Order().Select((old, i) => (old, i)).ToDictionary(p => p.old, p => (long)p.i);
        for (int i = 0; i < labels.Count; i++) labels[i] = map[labels[i]];
        return map.Count;
    }
}
