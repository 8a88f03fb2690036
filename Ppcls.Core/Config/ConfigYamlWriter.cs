using System.Text;

namespace Ppcls.Core.Config;

/// <summary>
/// Writes a <see cref="ConfigMap"/> as block-style YAML that <see cref="YamlConfigReader"/> (and
/// PyYAML) read back to the same tree: mappings indented by two, lists of scalars in flow style
/// (`mean: [0.485, 0.456, 0.406]`), lists of mappings as `- Name:` items, null as an empty value,
/// and strings quoted wherever plain YAML would read them as something else.
/// </summary>
public static class ConfigYamlWriter
{
    public static string Write(ConfigMap root)
    {
        var sb = new StringBuilder();
        WriteMap(sb, root, 0);
        return sb.ToString();
    }

    static void WriteMap(StringBuilder sb, ConfigMap map, int indent)
    {
        foreach (var (key, value) in map.Entries)
        {
            sb.Append(' ', indent).Append(Key(key)).Append(':');
            WriteValue(sb, value, indent);
        }
    }

    /// <summary>Writes what follows `key:` (the rest of the line, or nested lines).</summary>
    static void WriteValue(StringBuilder sb, ConfigNode value, int indent)
    {
        switch (value)
        {
            case ConfigScalar { IsNull: true }:
                sb.AppendLine();
                break;
            case ConfigScalar s:
                sb.Append(' ').AppendLine(Scalar(s));
                break;
            case ConfigMap { Count: 0 }:
                sb.AppendLine(" {}");
                break;
            case ConfigMap m:
                sb.AppendLine();
                WriteMap(sb, m, indent + 2);
                break;
            case ConfigList { Items.Count: 0 }:
                sb.AppendLine(" []");
                break;
            case ConfigList l when l.Items.All(i => i is ConfigScalar):
                sb.Append(" [").Append(string.Join(", ", l.Items.Cast<ConfigScalar>().Select(s => s.IsNull ? "null" : Scalar(s)))).AppendLine("]");
                break;
            case ConfigList l:
                sb.AppendLine();
                foreach (var item in l.Items)
                {
                    sb.Append(' ', indent + 2).Append('-');
                    switch (item)
                    {
                        case ConfigMap { Count: > 0 } m:
                            // The first key shares the dash's line; the rest align under it.
                            var (firstKey, firstValue) = m.Entries[0];
                            sb.Append(' ').Append(Key(firstKey)).Append(':');
                            WriteValue(sb, firstValue, indent + 4);
                            foreach (var (k, v) in m.Entries.Skip(1))
                            {
                                sb.Append(' ', indent + 4).Append(Key(k)).Append(':');
                                WriteValue(sb, v, indent + 4);
                            }
                            break;
                        default:
                            WriteValue(sb, item, indent + 2);
                            break;
                    }
                }
                break;
        }
    }

    static string Key(string key) => NeedsQuotes(key) ? Quote(key) : key;

    static string Scalar(ConfigScalar s)
    {
        string text = s.Text!;
        if (s.Quoted || NeedsQuotes(text)) return Quote(text);
        return text;
    }

    /// <summary>Text plain YAML would misread: empty, null/bool spellings, indicators, leading/trailing space, ': ' or ' #'.</summary>
    static bool NeedsQuotes(string text) =>
        text.Length == 0
        || text is "~" or "null" or "Null" or "NULL"
        || text.Trim() != text
        || "-?:,[]{}#&*!|>'\"%@`".Contains(text[0])
        || text.Contains(": ") || text.Contains(" #") || text.EndsWith(':')
        || text.Any(c => char.IsControl(c));

    static string Quote(string text)
    {
        if (text.Any(char.IsControl))
        {
            var sb = new StringBuilder("\"");
            foreach (char c in text)
                sb.Append(c switch { '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\t' => "\\t", '\r' => "\\r", _ => c.ToString() });
            return sb.Append('"').ToString();
        }
        return "'" + text.Replace("'", "''") + "'";
    }
}
