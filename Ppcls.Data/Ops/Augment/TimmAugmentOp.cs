using OpenCvSharp;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops.Augment;

/// <summary>Settings shared by the ops of one timm policy (timm's hparams).</summary>
public sealed record TimmHyperParams(double TranslateConst, double TranslatePct, Scalar Fill, Interpolation Interpolation, double MagnitudeStd);

/// <summary>
/// One timm augmentation (`Rotate`, `ShearX`, `PosterizeIncreasing`, ...): applied with
/// probability `prob`, at a magnitude 0-10 (Gaussian-jittered by magnitude_std, clipped), mapped
/// to the op's argument as timm does; geometric args are negated half the time.
/// </summary>
public sealed class TimmAugmentOp(string name, double prob, double magnitude, TimmHyperParams hp)
{
    public const double MaxLevel = 10;

    public static readonly string[] Names =
    [
        "AutoContrast", "Equalize", "Invert", "Rotate", "Posterize", "PosterizeIncreasing", "PosterizeOriginal",
        "Solarize", "SolarizeIncreasing", "SolarizeAdd", "Color", "ColorIncreasing", "Contrast", "ContrastIncreasing",
        "Brightness", "BrightnessIncreasing", "Sharpness", "SharpnessIncreasing", "ShearX", "ShearY",
        "TranslateX", "TranslateY", "TranslateXRel", "TranslateYRel",
    ];

    public string Name { get; } = name;

    static double Negate(double v, Random rng) => rng.NextDouble() > 0.5 ? -v : v;

    /// <summary>Applies the op (or not, by its probability); returns the input when skipped.</summary>
    public Mat Apply(Mat img, Random rng)
    {
        if (prob < 1.0 && rng.NextDouble() > prob) return img;
        double m = magnitude;
        if (hp.MagnitudeStd > 0) m = m + hp.MagnitudeStd * rng.Normal();
        m = Math.Clamp(m, 0, MaxLevel);
        double level = m / MaxLevel;
        InterpolationFlags Interp() => hp.Interpolation.Pick(rng);
        double Enhance() => level * 1.8 + 0.1;
        double EnhanceIncreasing() => 1.0 + Negate(level * 0.9, rng);
        return Name switch
        {
            "AutoContrast" => PilOps.AutoContrast(img),
            "Equalize" => PilOps.Equalize(img),
            "Invert" => PilOps.Invert(img),
            "Rotate" => PilOps.Rotate(img, Negate(level * 30, rng), Interp(), hp.Fill),
            "Posterize" => PilOps.Posterize(img, (int)(level * 4)),
            "PosterizeIncreasing" => PilOps.Posterize(img, 4 - (int)(level * 4)),
            "PosterizeOriginal" => PilOps.Posterize(img, (int)(level * 4) + 4),
            "Solarize" => PilOps.Solarize(img, (int)(level * 256)),
            "SolarizeIncreasing" => PilOps.Solarize(img, 256 - (int)(level * 256)),
            "SolarizeAdd" => PilOps.SolarizeAdd(img, (int)(level * 110)),
            "Color" => PilOps.Color(img, Enhance()),
            "ColorIncreasing" => PilOps.Color(img, EnhanceIncreasing()),
            "Contrast" => PilOps.Contrast(img, Enhance()),
            "ContrastIncreasing" => PilOps.Contrast(img, EnhanceIncreasing()),
            "Brightness" => PilOps.Brightness(img, Enhance()),
            "BrightnessIncreasing" => PilOps.Brightness(img, EnhanceIncreasing()),
            "Sharpness" => PilOps.Sharpness(img, Enhance()),
            "SharpnessIncreasing" => PilOps.Sharpness(img, EnhanceIncreasing()),
            "ShearX" => PilOps.Affine(img, 1, Negate(level * 0.3, rng), 0, 0, 1, 0, Interp(), hp.Fill),
            "ShearY" => PilOps.Affine(img, 1, 0, 0, Negate(level * 0.3, rng), 1, 0, Interp(), hp.Fill),
            "TranslateX" => PilOps.Affine(img, 1, 0, Negate(level * hp.TranslateConst, rng), 0, 1, 0, Interp(), hp.Fill),
            "TranslateY" => PilOps.Affine(img, 1, 0, 0, 0, 1, Negate(level * hp.TranslateConst, rng), Interp(), hp.Fill),
            "TranslateXRel" => PilOps.Affine(img, 1, 0, Negate(level * hp.TranslatePct, rng) * img.Width, 0, 1, 0, Interp(), hp.Fill),
            "TranslateYRel" => PilOps.Affine(img, 1, 0, 0, 0, 1, Negate(level * hp.TranslatePct, rng) * img.Height, Interp(), hp.Fill),
            _ => throw new InvalidOperationException($"unknown timm augmentation {Name}"),
        };
    }
}
