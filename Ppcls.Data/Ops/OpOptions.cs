using OpenCvSharp;
using Ppcls.Core.Config;

namespace Ppcls.Data.Ops;

/// <summary>Shared option readers for the ops: sizes, number pairs, interpolation names.</summary>
public static class OpOptions
{
    /// <summary>
    /// The largest output side an op may set: far above any classification input (224-1024 px), and
    /// small enough that one such image (16384 x 16384 x 3 floats: 3 GiB) is still a plausible batch
    /// element; larger values are typos that would run until the kernel kills the process.
    /// </summary>
    public const int MaxSide = 16384;

    /// <summary>`size: 224` (square) or `size: [w, h]`, each side at most <see cref="MaxSide"/>; null where absent.</summary>
    public static Size? OptionalSize(ConfigSection s, string key)
    {
        var list = s.OptionalIntList(key);
        if (list is null) return null;
        if (list.Count is not (1 or 2) || list.Any(v => v < 1))
            throw ConfigException.At(s.KeyPath(key), s.Map[key]?.Location, $"expected a positive integer or a list [width, height], got [{string.Join(", ", list)}]");
        if (list.Max() > MaxSide) throw TooLarge(s, key, list.Max());
        return list.Count == 1 ? new Size(list[0], list[0]) : new Size(list[0], list[1]);
    }

    public static ConfigException TooLarge(ConfigSection s, string key, long side) =>
        ConfigException.At(s.KeyPath(key), s.Raw(key)?.Location,
            $"{side} px is beyond the largest output side supported ({MaxSide} px); classification inputs are 224-1024 px, e.g. {key}: 224");

    /// <summary>
    /// Checks for unknown keys before a required-key error, so `sise: 8` is reported as a
    /// misspelling of `size` rather than as a missing `size`. Call after reading every key.
    /// </summary>
    public static void RequireAllKeysKnown(ConfigSection s, Action<string> notice)
    {
        if (s.UnreadKeys.Any()) s.Finish(notice);
    }

    /// <summary>A probability option such as `prob`, within [0, 1].</summary>
    public static double Probability(ConfigSection s, string key, double fallback)
    {
        double p = s.Double(key, fallback);
        return p is >= 0 and <= 1 ? p : throw ConfigException.At(s.KeyPath(key), s.Raw(key)?.Location, $"must be a probability in [0, 1], got {p}");
    }

    /// <summary>A constant fill such as `fill`: one pixel value 0..255.</summary>
    public static int PixelValue(ConfigSection s, string key, int fallback)
    {
        int v = s.Int(key, fallback);
        return v is >= 0 and <= 255 ? v : throw ConfigException.At(s.KeyPath(key), s.Raw(key)?.Location, $"must be a pixel value 0..255, got {v}");
    }

    /// <summary>A two-number range such as `scale: [0.08, 1.0]`.</summary>
    public static (double Low, double High) Range(ConfigSection s, string key, double low, double high)
    {
        var list = s.OptionalDoubleList(key);
        if (list is null) return (low, high);
        if (list.Count != 2 || list[0] > list[1])
            throw ConfigException.At(s.KeyPath(key), s.Map[key]?.Location, $"expected [low, high] with low <= high, got [{string.Join(", ", list)}]");
        return (list[0], list[1]);
    }

    /// <summary>Three per-channel numbers (`mean`, `std`).</summary>
    public static double[] Triple(ConfigSection s, string key, double[] fallback)
    {
        var list = s.OptionalDoubleList(key);
        if (list is null) return fallback;
        if (list.Count != 3)
            throw ConfigException.At(s.KeyPath(key), s.Map[key]?.Location, $"expected 3 numbers (one per channel), got {list.Count}");
        return [.. list];
    }

    /// <summary>
    /// `interpolation` as PaddleClas names it (<see cref="Interpolation.Names"/>; a cv2 code 0-4
    /// works too) and `backend` (cv2|pil, both resizing with OpenCV). `random` picks bilinear or
    /// bicubic per sample.
    /// </summary>
    public static Interpolation ReadInterpolation(ConfigSection s, Action<string> notice)
    {
        string backend = s.Choice("backend", "cv2", "cv2", "pil");
        var raw = s.Raw("interpolation");
        InterpolationMode mode;
        if (raw is null or ConfigScalar { IsNull: true }) mode = InterpolationMode.Bilinear;
        else if (raw is ConfigScalar sc && sc.TryLong(out long code))
        {
            if (code is < 0 or > 4)
                throw ConfigException.At(s.KeyPath("interpolation"), raw.Location, $"cv2 interpolation code must be 0-4, got {code}");
            mode = Interpolation.Codes[(int)code];
        }
        else mode = Interpolation.Named(s.Choice("interpolation", "bilinear", [.. Interpolation.Names.Select(n => n.Name)]));
        var interpolation = new Interpolation(mode);
        if (backend == "pil") notice($"{s.KeyPath("backend")}: pil resizes with OpenCV's nearest equivalent filter ({string.Join("/", interpolation.Filters)})");
        return interpolation;
    }
}
