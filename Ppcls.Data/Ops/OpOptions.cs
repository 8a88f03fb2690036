using OpenCvSharp;
using Ppcls.Core.Config;

namespace Ppcls.Data.Ops;

/// <summary>Shared option readers for the ops: sizes, number pairs, interpolation names.</summary>
public static class OpOptions
{
    /// <summary>`size: 224` (square) or `size: [w, h]`; null where absent.</summary>
    public static Size? OptionalSize(ConfigSection s, string key)
    {
        var list = s.OptionalIntList(key);
        if (list is null) return null;
        if (list.Count is not (1 or 2) || list.Any(v => v < 1))
            throw ConfigException.At(s.KeyPath(key), s.Map[key]?.Location, $"expected a positive integer or a list [width, height], got [{string.Join(", ", list)}]");
        return list.Count == 1 ? new Size(list[0], list[0]) : new Size(list[0], list[1]);
    }

    /// <summary>
    /// Checks for unknown keys before a required-key error, so `sise: 8` is reported as a
    /// misspelling of `size` rather than as a missing `size`. Call after reading every key.
    /// </summary>
    public static void RequireAllKeysKnown(ConfigSection s, Action<string> notice)
    {
        if (s.UnreadKeys.Any()) s.Finish(notice);
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

    public static readonly string[] InterpolationNames =
    [
        "nearest", "bilinear", "linear", "area", "bicubic", "cubic", "lanczos", "box", "hamming", "random",
        "INTER_NEAREST", "INTER_LINEAR", "INTER_AREA", "INTER_CUBIC", "INTER_LANCZOS4",
    ];

    /// <summary>
    /// `interpolation` as PaddleClas names it (a cv2 code 0-4 works too) and `backend` (cv2|pil).
    /// Both backends resize with OpenCV; PIL-only filters map to the nearest OpenCV one:
    /// box -> INTER_AREA, hamming -> INTER_LINEAR. `random` picks bilinear or bicubic per sample.
    /// </summary>
    public static Interpolation ReadInterpolation(ConfigSection s, Action<string> notice)
    {
        string backend = s.Choice("backend", "cv2", "cv2", "pil");
        var raw = s.Raw("interpolation");
        InterpolationFlags[] choices;
        if (raw is null or ConfigScalar { IsNull: true }) choices = [InterpolationFlags.Linear];
        else if (raw is ConfigScalar sc && sc.TryLong(out long code))
        {
            if (code is < 0 or > 4)
                throw ConfigException.At(s.KeyPath("interpolation"), raw.Location, $"cv2 interpolation code must be 0-4, got {code}");
            choices = [(InterpolationFlags)code];
        }
        else
        {
            string name = s.Choice("interpolation", "bilinear", InterpolationNames).ToLowerInvariant();
            choices = name switch
            {
                "nearest" or "inter_nearest" => [InterpolationFlags.Nearest],
                "bilinear" or "linear" or "hamming" or "inter_linear" => [InterpolationFlags.Linear],
                "area" or "box" or "inter_area" => [InterpolationFlags.Area],
                "bicubic" or "cubic" or "inter_cubic" => [InterpolationFlags.Cubic],
                "lanczos" or "inter_lanczos4" => [InterpolationFlags.Lanczos4],
                _ => [InterpolationFlags.Linear, InterpolationFlags.Cubic],
            };
        }
        if (backend == "pil") notice($"{s.KeyPath("backend")}: pil resizes with OpenCV's nearest equivalent filter ({string.Join("/", choices)})");
        return new Interpolation(choices);
    }
}

/// <summary>A resize filter, or a per-sample random choice among several.</summary>
public sealed record Interpolation(InterpolationFlags[] Choices)
{
    public InterpolationFlags Pick(Random rng) => Choices.Length == 1 ? Choices[0] : Choices[rng.Next(Choices.Length)];
}
