using System.Globalization;

namespace Ppcls.Core.Config;

/// <summary>
/// One `-o Dotted.Key=value` override, with PaddleClas semantics: segments index maps
/// by key and lists by position (`DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=64`);
/// values are numbers, booleans, None, lists such as `[1,5]`, or strings; a key that does
/// not exist yet is added with a notice. Later overrides win.
/// </summary>
public sealed record ConfigOverride(string Text, IReadOnlyList<string> Path, ConfigNode Value)
{
    public static ConfigOverride Parse(string text)
    {
        int eq = text.IndexOf('=');
        if (eq <= 0)
            throw new ConfigException($"-o {text}: an override must look like Key.Sub=value (e.g. -o Global.epochs=10)");
        string key = text[..eq].Trim();
        var path = key.Split('.');
        if (path.Any(string.IsNullOrWhiteSpace))
            throw new ConfigException($"-o {text}: '{key}' has an empty segment; write dotted keys like Global.epochs");
        var where = SourceLocation.CommandLine(text);
        return new ConfigOverride(text, path, ParseValue(text[(eq + 1)..].Trim(), text, where));
    }

    /// <summary>Reads the YAML file at <paramref name="path"/> and applies the overrides in order (the `-c FILE -o ...` of every command).</summary>
    public static ConfigMap LoadTree(string path, IEnumerable<string> overrides, Action<string> notice)
    {
        var tree = YamlConfigReader.ReadFile(path);
        foreach (var text in overrides) Parse(text).ApplyTo(tree, notice);
        return tree;
    }

    /// <summary>Applies the override to <paramref name="root"/>; <paramref name="notice"/> hears about new keys.</summary>
    public void ApplyTo(ConfigMap root, Action<string> notice)
    {
        ConfigNode node = root;
        for (int i = 0; i < Path.Count; i++)
        {
            string segment = Path[i];
            bool last = i == Path.Count - 1;
            string sofar = string.Join('.', Path.Take(i + 1));
            switch (node)
            {
                case ConfigMap map:
                    if (last)
                    {
                        if (!map.ContainsKey(segment)) notice($"A new field ({sofar}) detected from -o {Text}");
                        map[segment] = Value;
                        return;
                    }
                    if (map[segment] is not { } child || child is ConfigScalar { IsNull: true })
                    {
                        notice($"A new Series field ({sofar}) detected from -o {Text}");
                        child = new ConfigMap { Location = Value.Location };
                        map[segment] = child;
                    }
                    node = child;
                    break;
                case ConfigList list:
                    if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= list.Items.Count)
                        throw new ConfigException(
                            $"-o {Text}: {string.Join('.', Path.Take(i))} is a list of {list.Items.Count} items; '{segment}' must be an index from 0 to {list.Items.Count - 1}");
                    if (last)
                    {
                        list.Items[index] = Value;
                        return;
                    }
                    node = list.Items[index];
                    break;
                default:
                    throw new ConfigException(
                        $"-o {Text}: {string.Join('.', Path.Take(i))} is {node.KindName}, so it has no key '{segment}'");
            }
        }
    }

    static ConfigNode ParseValue(string v, string text, SourceLocation where)
    {
        if (v.StartsWith('['))
        {
            if (!v.EndsWith(']')) throw new ConfigException($"-o {text}: list value '{v}' is missing its closing ']'");
            var list = new ConfigList { Location = where };
            foreach (var item in SplitTopLevel(v[1..^1], text))
                list.Items.Add(ParseValue(item.Trim(), text, where));
            return list;
        }
        if (v.Length >= 2 && (v[0] == '\'' || v[0] == '"') && v[^1] == v[0])
            return new ConfigScalar(v[1..^1], quoted: true) { Location = where };
        if (v is "None" or "null" or "~") return new ConfigScalar(null) { Location = where };
        return new ConfigScalar(v) { Location = where };
    }

    static List<string> SplitTopLevel(string inner, string text)
    {
        var parts = new List<string>();
        if (string.IsNullOrWhiteSpace(inner)) return parts;
        int depth = 0, start = 0;
        for (int i = 0; i < inner.Length; i++)
        {
            if (inner[i] == '[') depth++;
            else if (inner[i] == ']' && --depth < 0) throw new ConfigException($"-o {text}: unbalanced ']' in the value");
            else if (inner[i] == ',' && depth == 0)
            {
                parts.Add(inner[start..i]);
                start = i + 1;
            }
        }
        if (depth != 0) throw new ConfigException($"-o {text}: unbalanced '[' in the value");
        parts.Add(inner[start..]);
        return parts;
    }
}
