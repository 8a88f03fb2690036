using Ppcls.Core.Config;

namespace Ppcls.Models.Layers;

/// <summary>Reading and checking the Arch options the PP-LCNet and MobileNetV2 factories share.</summary>
public static class ArchOptions
{
    /// <summary>
    /// A list of strides, each a positive integer or an `[h, w]` pair of them (as PaddleClas's
    /// `stride_list: [2, [2, 1], [2, 1], [2, 1], [2, 1]]`); null when the key is absent.
    /// </summary>
    public static IReadOnlyList<Stride2d>? StrideList(ConfigSection section, string key)
    {
        var node = section.Raw(key);
        if (node is null or ConfigScalar { IsNull: true }) return null;
        IEnumerable<ConfigNode> items = node is ConfigList list ? list.Items : [node];
        return items.Select(item => item switch
        {
            ConfigScalar s when PositiveStride(s) is { } both => new Stride2d(both, both),
            ConfigList { Items: [ConfigScalar h, ConfigScalar w] } when PositiveStride(h) is { } sh && PositiveStride(w) is { } sw => new Stride2d(sh, sw),
            _ => throw ConfigException.At(section.KeyPath(key), item.Location ?? node.Location ?? section.Location,
                $"each stride is a positive integer or an [h, w] pair of them, got {item.KindName}; e.g. {key}: [2, [2, 1], [2, 1], [2, 1], [2, 1]]"),
        }).ToList();
    }

    static long? PositiveStride(ConfigScalar s) => s.TryLong(out long v) && v > 0 ? v : null;

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
