using Ppcls.Core.Config;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>One entry of <c>model_name_pairs</c>: <c>["Student", "Teacher"]</c>, the first learns from the second.</summary>
public sealed record ModelPair(string First, string Second)
{
    public override string ToString() => $"{First}_{Second}";

    /// <summary>
    /// A pair loss's logged terms: <paramref name="term"/> gets each pair's index, the pair and the
    /// two models' outputs (<paramref name="key"/> of each) and gives the term's name and value.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> Terms(IReadOnlyList<ModelPair> pairs, ModelOutput output, string? key, string loss,
        Func<int, ModelPair, Tensor, Tensor, (string Name, Tensor Value)> term)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < pairs.Count; i++)
        {
            var (name, value) = term(i, pairs[i], output.Get(pairs[i].First, key, loss), output.Get(pairs[i].Second, key, loss));
            result[name] = value;
        }
        return result;
    }

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
