using System.Globalization;
using Ppcls.Core.Config;

namespace Ppcls.Core.Loss;

/// <summary>
/// CELoss's <c>class_weights</c> (a Ppcls addition for imbalanced data): one weight per class, or
/// <c>auto</c> for inverse class frequency over the training list, scaled so the weights of the
/// classes that have images average 1 (a class without images gets 0). Logged once.
/// </summary>
public static class ClassWeights
{
    public const string Key = "class_weights";

    /// <summary>The weights <c>class_weights</c> asks for, checked against the class count; null without the key.</summary>
    public static double[]? Read(ConfigSection o, LossContext context)
    {
        var node = o.Raw(Key);
        if (node is null or ConfigScalar { IsNull: true }) return null;
        string key = o.KeyPath(Key);
        double[] weights = node is ConfigScalar { Text: "auto" }
            ? Auto(context, key, node.Location)
            : node is ConfigList
                ? [.. o.OptionalDoubleList(Key)!]
                : throw ConfigException.At(key, node.Location, "expected a list with one weight per class, e.g. [1.0, 3.5], or auto (inverse class frequency of the training list)");
        if (context.ClassNum > 0 && weights.Length != context.ClassNum)
            throw ConfigException.At(key, node.Location, $"has {weights.Length} weights but Arch.class_num is {context.ClassNum}; give one weight per class");
        if (weights.Any(w => w < 0 || !double.IsFinite(w)) || weights.Sum() <= 0)
            throw ConfigException.At(key, node.Location, "weights must be finite, 0 or more, and not all 0");
        context.Log($"{key}: [{string.Join(", ", weights.Select(w => w.ToString("0.####", CultureInfo.InvariantCulture)))}]");
        return weights;
    }

    /// <summary>1 / images of the class, scaled so the weights of the classes with images average 1.</summary>
    static double[] Auto(LossContext context, string key, SourceLocation? where)
    {
        var counts = context.TrainLabelCounts
            ?? throw ConfigException.At(key, where, "auto needs the labels of the training list, which this command does not read; give the weights as a list [w0, w1, ...]");
        int classes = context.ClassNum > 0 ? context.ClassNum : (int)counts.Keys.DefaultIfEmpty(-1).Max() + 1;
        var inverse = new double[classes];
        for (int c = 0; c < classes; c++) inverse[c] = counts.TryGetValue(c, out long n) && n > 0 ? 1.0 / n : 0;
        int present = inverse.Count(v => v > 0);
        if (present == 0) throw ConfigException.At(key, where, $"auto: {context.TrainListKey} has no labelled images");
        double scale = present / inverse.Sum();
        context.Log($"{key}: auto, inverse class frequency of {context.TrainListKey} ({present} of {classes} classes have images)");
        return [.. inverse.Select(v => v * scale)];
    }
}
