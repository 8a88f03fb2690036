namespace Ppcls.Core.Config;

/// <summary>Suggests the closest valid key for a misspelt one (edit distance, case-insensitive).</summary>
public static class KeySuggester
{
    public static string? Closest(string key, IEnumerable<string> valid)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in valid)
        {
            int d = Distance(key.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance) (best, bestDistance) = (candidate, d);
        }
        // Only a near miss is a helpful suggestion: at most a third of the key may differ.
        return best is not null && bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }

    static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>"did you mean 'x'? " or "", ready to put in front of a list of valid keys.</summary>
    public static string Hint(string key, IEnumerable<string> valid) =>
        Closest(key, valid) is { } s ? $"did you mean '{s}'? " : "";
}
