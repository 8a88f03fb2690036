using Ppcls.Core.Config;

namespace Ppcls.Core.Loss;

/// <summary>One entry of <c>model_name_pairs</c>: <c>["Student", "Teacher"]</c>, the first learns from the second.</summary>
public sealed record ModelPair(string First, string Second)
{
    public override string ToString() => $"{First}_{Second}";

    /// <summary>`model_name_pairs` as a list of two-name lists; required and non-empty.</summary>
    public static IReadOnlyList<ModelPair> Read(ConfigSection options, string key = "model_name_pairs")
    {
        var node = options.Raw(key);
        string example = $"{key}: [[\"Student\", \"Teacher\"]]";
        if (node is not ConfigList { Items.Count: > 0 } list)
            throw ConfigException.At(options.KeyPath(key), node?.Location ?? options.Location, $"expected a non-empty list of model name pairs, e.g. {example}");
        var pairs = new List<ModelPair>();
        foreach (var item in list.Items)
        {
            if (item is not ConfigList { Items: [ConfigScalar { Text: { } a }, ConfigScalar { Text: { } b }] })
                throw ConfigException.At(options.KeyPath(key), item.Location ?? node.Location, $"each pair must be two model names, e.g. {example}");
            pairs.Add(new ModelPair(a, b));
        }
        return pairs;
    }

    /// <summary>`model_names` as a non-empty list of names.</summary>
    public static IReadOnlyList<string> ReadNames(ConfigSection options, string key = "model_names") =>
        options.OptionalStringList(key) is { Count: > 0 } names
            ? names
            : throw ConfigException.At(options.KeyPath(key), options.Raw(key)?.Location ?? options.Location,
                $"expected a non-empty list of model names, e.g. {key}: [\"Student\"]");
}
