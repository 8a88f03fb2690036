namespace Ppcls.Core.Config;

/// <summary>A named entry of a PaddleClas single-key list, e.g. `- CELoss: {epsilon: 0.1}` or `- RandFlipImage:`.</summary>
public sealed record NamedEntry(string Name, ConfigSection Options);

/// <summary>
/// Typed, validating access to one mapping of the config (`Global`, `Arch`, an op's
/// parameters, ...). Each read names the key; <see cref="Finish"/> then rejects every key
/// nobody read, with a suggestion, so a misspelt key fails before any work is done.
/// Keys PaddleClas has but Ppcls does not use can be accepted with a notice.
/// </summary>
public sealed class ConfigSection
{
    readonly HashSet<string> _read = [];

    public ConfigSection(ConfigMap map, string path)
    {
        Map = map;
        Path = path;
    }

    public ConfigMap Map { get; }
    public string Path { get; }
    public SourceLocation? Location => Map.Location;

    public static ConfigSection Empty(string path) => new(new ConfigMap(), path);

    public string KeyPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public bool Has(string key) => Map[key] is { } n && n is not ConfigScalar { IsNull: true };

    /// <summary>The raw node, marking the key as read; null where absent.</summary>
    public ConfigNode? Raw(string key)
    {
        _read.Add(key);
        return Map[key];
    }

    ConfigException Wrong(string key, ConfigNode node, string expected) =>
        ConfigException.At(KeyPath(key), node.Location, $"expected {expected}, got {node.KindName}");

    ConfigException Missing(string key, string example) =>
        ConfigException.At(KeyPath(key), Location, $"required key is missing; add it, e.g. {key}: {example}");

    ConfigScalar? Scalar(string key, string expected)
    {
        var node = Raw(key);
        if (node is null or ConfigScalar { IsNull: true }) return null;
        return node as ConfigScalar ?? throw Wrong(key, node, expected);
    }

    public string? OptionalString(string key) => Scalar(key, "a string")?.Text;
    public string String(string key, string fallback) => OptionalString(key) ?? fallback;
    public string RequiredString(string key, string example) => OptionalString(key) ?? throw Missing(key, example);

    public bool Bool(string key, bool fallback)
    {
        var s = Scalar(key, "true or false");
        if (s is null) return fallback;
        return s.TryBool(out bool v) ? v : throw Wrong(key, s, "true or false");
    }

    public long? OptionalLong(string key)
    {
        var s = Scalar(key, "an integer");
        if (s is null) return null;
        return s.TryLong(out long v) ? v : throw Wrong(key, s, "an integer");
    }

    public int Int(string key, int fallback) => (int)(OptionalLong(key) ?? fallback);
    public int RequiredInt(string key, string example) => (int?)OptionalLong(key) ?? throw Missing(key, example);

    public double? OptionalDouble(string key)
    {
        var s = Scalar(key, "a number");
        if (s is null) return null;
        return s.TryDouble(out double v) ? v : throw Wrong(key, s, "a number");
    }

    public double Double(string key, double fallback) => OptionalDouble(key) ?? fallback;
    public double RequiredDouble(string key, string example) => OptionalDouble(key) ?? throw Missing(key, example);

    /// <summary>A list of numbers; a single number is read as a one-item list (`size: 224`).</summary>
    public IReadOnlyList<double>? OptionalDoubleList(string key) =>
        ListOf(key, "a number or a list of numbers", (ConfigScalar s, out double v) => s.TryDouble(out v));

    public IReadOnlyList<int>? OptionalIntList(string key) =>
        ListOf(key, "an integer or a list of integers", (ConfigScalar s, out int v) =>
        {
            bool ok = s.TryLong(out long l) && l is >= int.MinValue and <= int.MaxValue;
            v = (int)l;
            return ok;
        });

    public IReadOnlyList<string>? OptionalStringList(string key) =>
        ListOf(key, "a string or a list of strings", (ConfigScalar s, out string v) =>
        {
            v = s.Text ?? "";
            return s.Text is not null;
        });

    delegate bool TryParse<T>(ConfigScalar scalar, out T value);

    IReadOnlyList<T>? ListOf<T>(string key, string expected, TryParse<T> parse)
    {
        var node = Raw(key);
        if (node is null or ConfigScalar { IsNull: true }) return null;
        IEnumerable<ConfigNode> items = node is ConfigList list ? list.Items : [node];
        var result = new List<T>();
        foreach (var item in items)
        {
            if (item is not ConfigScalar s || !parse(s, out T value)) throw Wrong(key, item, expected);
            result.Add(value);
        }
        return result;
    }

    /// <summary>An enumerated string value; anything else lists the valid choices.</summary>
    public string Choice(string key, string fallback, params string[] choices)
    {
        var s = Scalar(key, "one of " + string.Join(", ", choices));
        if (s?.Text is null) return fallback;
        var match = choices.FirstOrDefault(c => string.Equals(c, s.Text, StringComparison.OrdinalIgnoreCase));
        return match ?? throw ConfigException.At(KeyPath(key), s.Location,
            $"'{s.Text}' is not valid; {KeySuggester.Hint(s.Text, choices)}use one of: {string.Join(", ", choices)}");
    }

    /// <summary>A choice read into an enum once: the config spells each member in snake case, as PaddleClas does (`cpu`, `pdparams`, `channels_last`).</summary>
    public T Choice<T>(string key, T fallback) where T : struct, Enum
    {
        var members = Enum.GetValues<T>().ToDictionary(SnakeCase);
        return members[Choice(key, SnakeCase(fallback), [.. members.Keys])];
    }

    /// <summary>An enum member as configs spell it: `ChannelsLast` is `channels_last`.</summary>
    public static string SnakeCase<T>(T member) where T : struct, Enum =>
        string.Concat(member.ToString().Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));

    /// <summary>A nested mapping; null where absent or null.</summary>
    public ConfigSection? OptionalSection(string key)
    {
        var node = Raw(key);
        if (node is null or ConfigScalar { IsNull: true }) return null;
        return node is ConfigMap map ? new ConfigSection(map, KeyPath(key)) : throw Wrong(key, node, "a mapping");
    }

    public ConfigSection RequiredSection(string key, string example) => OptionalSection(key) ?? throw Missing(key, example);

    /// <summary>
    /// A PaddleClas single-key list (`- CELoss: {weight: 1.0}`, `- ToCHWImage:`): each item is
    /// a mapping with exactly one key, the entry's name, whose value holds its options.
    /// </summary>
    public IReadOnlyList<NamedEntry>? OptionalNamedList(string key)
    {
        var node = Raw(key);
        if (node is null or ConfigScalar { IsNull: true }) return null;
        if (node is not ConfigList list) throw Wrong(key, node, "a list of single-key items such as '- Name: {...}'");
        var entries = new List<NamedEntry>();
        for (int i = 0; i < list.Items.Count; i++)
        {
            string itemPath = $"{KeyPath(key)}.{i}";
            if (list.Items[i] is not ConfigMap { Count: 1 } item)
                throw ConfigException.At(itemPath, list.Items[i].Location ?? node.Location,
                    "each item must be a single-key mapping such as '- Name: {...}' (check the indentation)");
            var (name, options) = item.Entries[0];
            string optionsPath = $"{itemPath}.{name}";
            var section = options switch
            {
                ConfigMap m => new ConfigSection(m, optionsPath),
                ConfigScalar { IsNull: true } => new ConfigSection(new ConfigMap { Location = item.Location }, optionsPath),
                _ => throw ConfigException.At(optionsPath, options.Location, $"expected a mapping of options, got {options.KindName}"),
            };
            entries.Add(new NamedEntry(name, section));
        }
        return entries;
    }

    /// <summary>Keys present but not read yet.</summary>
    public IEnumerable<string> UnreadKeys => Map.Keys.Where(k => !_read.Contains(k));

    /// <summary>
    /// Ends validation of this mapping: a key that was not read is a known PaddleClas key
    /// without meaning here (accepted, one notice) or an error naming it with a suggestion.
    /// </summary>
    public void Finish(IEnumerable<string> validKeys, Action<string> notice, IEnumerable<string>? acceptedButUnused = null)
    {
        var unused = acceptedButUnused?.ToHashSet() ?? [];
        foreach (var key in UnreadKeys.ToList())
        {
            if (unused.Contains(key))
            {
                notice($"{KeyPath(key)} is a PaddleClas key with no effect in Ppcls; ignored");
                _read.Add(key);
                continue;
            }
            var valid = validKeys.Concat(unused).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
            throw ConfigException.At(KeyPath(key), Map[key]?.Location ?? Location,
                $"unknown key; {KeySuggester.Hint(key, valid)}valid keys here: {string.Join(", ", valid)}");
        }
    }

    /// <summary>Finish with the keys this reader has read as the valid set.</summary>
    public void Finish(Action<string> notice, IEnumerable<string>? acceptedButUnused = null) =>
        Finish(_read, notice, acceptedButUnused);

    public override string ToString() => Path;
}
