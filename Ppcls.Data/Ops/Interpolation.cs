using OpenCvSharp;

namespace Ppcls.Data.Ops;

/// <summary>The resize filter an op's `interpolation` names, parsed once when the op is built.</summary>
public enum InterpolationMode { Nearest, Bilinear, Area, Bicubic, Lanczos, Random }

/// <summary>A resize filter, or (<see cref="InterpolationMode.Random"/>) a per-sample choice of bilinear or bicubic.</summary>
public sealed record Interpolation(InterpolationMode Mode)
{
    /// <summary>
    /// PaddleClas's names (cv2's and PIL's) and what each means here: both backends resize with
    /// OpenCV, so PIL-only filters take the nearest OpenCV one (box -> area, hamming -> bilinear).
    /// </summary>
    public static readonly (string Name, InterpolationMode Mode)[] Names =
    [
        ("nearest", InterpolationMode.Nearest), ("bilinear", InterpolationMode.Bilinear), ("linear", InterpolationMode.Bilinear),
        ("area", InterpolationMode.Area), ("bicubic", InterpolationMode.Bicubic), ("cubic", InterpolationMode.Bicubic),
        ("lanczos", InterpolationMode.Lanczos), ("box", InterpolationMode.Area), ("hamming", InterpolationMode.Bilinear),
        ("random", InterpolationMode.Random),
        ("INTER_NEAREST", InterpolationMode.Nearest), ("INTER_LINEAR", InterpolationMode.Bilinear), ("INTER_AREA", InterpolationMode.Area),
        ("INTER_CUBIC", InterpolationMode.Bicubic), ("INTER_LANCZOS4", InterpolationMode.Lanczos),
    ];

    /// <summary>The mode of one of <see cref="Names"/> (as ConfigSection.Choice returns it).</summary>
    public static InterpolationMode Named(string name) => Names.First(n => n.Name == name).Mode;

    /// <summary>cv2's interpolation codes 0-4 (INTER_NEAREST, _LINEAR, _CUBIC, _AREA, _LANCZOS4).</summary>
    public static readonly IReadOnlyList<InterpolationMode> Codes =
        [InterpolationMode.Nearest, InterpolationMode.Bilinear, InterpolationMode.Bicubic, InterpolationMode.Area, InterpolationMode.Lanczos];

    /// <summary>The OpenCV filters the mode draws from: one, or bilinear and bicubic for `random`.</summary>
    public IReadOnlyList<InterpolationFlags> Filters { get; } = Mode switch
    {
        InterpolationMode.Nearest => [InterpolationFlags.Nearest],
        InterpolationMode.Bilinear => [InterpolationFlags.Linear],
        InterpolationMode.Area => [InterpolationFlags.Area],
        InterpolationMode.Bicubic => [InterpolationFlags.Cubic],
        InterpolationMode.Lanczos => [InterpolationFlags.Lanczos4],
        _ => [InterpolationFlags.Linear, InterpolationFlags.Cubic],
    };

    public InterpolationFlags Pick(Random rng) => Filters.Count == 1 ? Filters[0] : Filters[rng.Next(Filters.Count)];
}
