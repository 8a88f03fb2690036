using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Ppcls.Core.Config;

/// <summary>Reads a YAML file into a <see cref="ConfigMap"/>, keeping file and line for every node. Anchors and aliases resolve as in PyYAML.</summary>
public static class YamlConfigReader
{
    public static ConfigMap ReadFile(string path)
    {
        if (!File.Exists(path))
            throw new ConfigException($"config file not found: {path} (pass an existing YAML file with -c, e.g. -c configs/quick_start/PPLCNet_x0_25_demo.yaml)");
        using var reader = new StreamReader(path);
        return Read(reader, path);
    }

    public static ConfigMap Read(TextReader text, string sourceName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(text);
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{sourceName}:{e.Start.Line}:{e.Start.Column}: invalid YAML: {Innermost(e).Message} (fix the syntax at that line)");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's parser gives no position for an unterminated flow collection.
            throw new ConfigException($"{sourceName}: invalid YAML: a '[' or '{{' is never closed (check the bracketed lists)");
        }
        if (stream.Documents.Count == 0) throw new ConfigException($"{sourceName}: the config file is empty");
        var root = Convert(stream.Documents[0].RootNode, sourceName);
        return root as ConfigMap
            ?? throw new ConfigException($"{sourceName}: the top level of a config must be a mapping of sections (Global, Arch, ...), not {root.KindName}");
    }

    static Exception Innermost(Exception e) => e.InnerException is YamlException inner ? Innermost(inner) : e;

    static ConfigNode Convert(YamlNode node, string source)
    {
        var where = new SourceLocation(source, (int)node.Start.Line, (int)node.Start.Column);
        switch (node)
        {
            case YamlMappingNode map:
                var result = new ConfigMap { Location = where };
                foreach (var (key, value) in map.Children)
                {
                    string name = ((key as YamlScalarNode)?.Value)
                        ?? throw new ConfigException($"{source}:{key.Start.Line}: a mapping key must be a plain name");
                    result[name] = Convert(value, source);
                }
                return result;
            case YamlSequenceNode seq:
                var list = new ConfigList { Location = where };
                list.Items.AddRange(seq.Children.Select(c => Convert(c, source)));
                return list;
            case YamlScalarNode scalar:
                bool quoted = scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted;
                string? text = !quoted && IsYamlNull(scalar.Value) ? null : scalar.Value ?? "";
                return new ConfigScalar(text, quoted) { Location = where };
            default:
                throw new ConfigException($"{where}: unsupported YAML node");
        }
    }

    static bool IsYamlNull(string? value) => value is null or "" or "~" or "null" or "Null" or "NULL";
}
