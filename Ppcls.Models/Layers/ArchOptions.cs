using Ppcls.Core.Config;

namespace Ppcls.Models.Layers;

/// <summary>Reading and checking the Arch options the PP-LCNet and MobileNetV2 factories share.</summary>
public static class ArchOptions
{
    /// <summary>
    /// PaddleClas's TheseusLayer options `return_patterns` / `return_stages` make a backbone
    /// return intermediate features; Ppcls models return logits only, so a set value is an error.
    /// </summary>
    public static void RejectFeatureReturns(ConfigSection section)
    {
        foreach (var key in new[] { "return_patterns", "return_stages" })
        {
            var node = section.Raw(key);
            if (node is null or ConfigScalar { IsNull: true } or ConfigScalar { Text: "False" or "false" }) continue;
            throw ConfigException.At(section.KeyPath(key), node.Location ?? section.Location,
                "returning intermediate features is not supported in Ppcls (the model returns logits only); remove this key");
        }
    }

    public static int PositiveInt(ConfigSection section, string key, int fallback)
    {
        int value = section.Int(key, fallback);
        return value > 0 ? value
            : throw ConfigException.At(section.KeyPath(key), section.Map[key]?.Location ?? section.Location, $"must be a positive integer, got {value}");
    }

    public static double Probability(ConfigSection section, string key, double fallback)
    {
        double value = section.Double(key, fallback);
        return value is >= 0.0 and <= 1.0 ? value
            : throw ConfigException.At(section.KeyPath(key), section.Map[key]?.Location ?? section.Location, $"must be a probability in [0, 1], got {value}");
    }
}
