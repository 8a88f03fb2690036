using System.Globalization;

namespace Ppcls.Core.Config;

/// <summary>
/// The config as a tree, before typing: what YAML and -o overrides produce. Every node
/// knows its dotted key path and where it came from, so errors can name both.
/// </summary>
public abstract class ConfigNode
{
    public SourceLocation? Location { get; set; }

    /// <summary>A short name of the node's kind for error messages ("a mapping", "a list", ...).</summary>
    public abstract string KindName { get; }

    public abstract ConfigNode DeepClone();
}

/// <summary>A YAML mapping; keys keep their file order.</summary>
public sealed class ConfigMap : ConfigNode
{
    readonly List<KeyValuePair<string, ConfigNode>> _entries = [];

    public override string KindName => "a mapping";
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);
    public IReadOnlyList<KeyValuePair<string, ConfigNode>> Entries => _entries;
    public int Count => _entries.Count;

    public ConfigNode? this[string key]
    {
        get => _entries.FirstOrDefault(e => e.Key == key).Value;
        set
        {
            int index = _entries.FindIndex(e => e.Key == key);
            if (value is null)
            {
                if (index >= 0) _entries.RemoveAt(index);
            }
            else if (index >= 0) _entries[index] = new(key, value);
            else _entries.Add(new(key, value));
        }
    }

    public bool ContainsKey(string key) => _entries.Any(e => e.Key == key);

    public override ConfigNode DeepClone()
    {
        var copy = new ConfigMap { Location = Location };
        foreach (var (k, v) in _entries) copy[k] = v.DeepClone();
        return copy;
    }
}

/// <summary>A YAML sequence.</summary>
public sealed class ConfigList : ConfigNode
{
    public List<ConfigNode> Items { get; } = [];
    public override string KindName => "a list";

    public override ConfigNode DeepClone()
    {
        var copy = new ConfigList { Location = Location };
        copy.Items.AddRange(Items.Select(i => i.DeepClone()));
        return copy;
    }
}

/// <summary>
/// A scalar as written. Typing happens when a section reads it, so `1.0/255.0` (a
/// PaddleClas idiom evaluated by Python) and `True` can be understood where a number
/// or a boolean is expected, and stay text elsewhere.
/// </summary>
public sealed class ConfigScalar(string? text, bool quoted = false) : ConfigNode
{
    /// <summary>The text, or null for YAML null (`null`, `~`, `None`, or an empty value).</summary>
    public string? Text { get; } = text;
    public bool Quoted { get; } = quoted;
    public bool IsNull => Text is null;

    public override string KindName => IsNull ? "null" : $"'{Text}'";
    public override ConfigNode DeepClone() => new ConfigScalar(Text, Quoted) { Location = Location };

    public static ConfigScalar Null() => new(null);

    public bool TryBool(out bool value)
    {
        switch (Text?.ToLowerInvariant())
        {
            case "true" or "yes" or "on": value = true; return true;
            case "false" or "no" or "off": value = false; return true;
            default: value = false; return false;
        }
    }

    public bool TryLong(out long value)
    {
        value = 0;
        return !Quoted && long.TryParse(Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A number, accepting one division (`1.0/255.0`, `1/3`) as PaddleClas's Python eval does.</summary>
    public bool TryDouble(out double value)
    {
        value = 0;
        if (Text is null || Quoted) return false;
        int slash = Text.IndexOf('/');
        if (slash < 0) return ParseNumber(Text, out value);
        if (!ParseNumber(Text[..slash], out double num) || !ParseNumber(Text[(slash + 1)..], out double den) || den == 0)
            return false;
        value = num / den;
        return true;
    }

    static bool ParseNumber(string s, out double value) =>
        double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
}
