using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops.Augment;

/// <summary>
/// The ops of PaddleClas's own `RandAugment` and `AutoAugment` (ImageNet policy): geometric ops
/// with a gray fill, enhance factors 1 ± magnitude (sign drawn per call), rotate by +magnitude
/// with a 128 fill.
/// </summary>
static class PolicyOps
{
    public static readonly Scalar Gray = new(128, 128, 128);

    static double Sign(Random rng) => rng.Next(2) == 0 ? -1 : 1;

    public static Mat Apply(string name, Mat img, double magnitude, Scalar fill, Random rng) => name switch
    {
        "shearX" => PilOps.Affine(img, 1, magnitude * Sign(rng), 0, 0, 1, 0, InterpolationFlags.Cubic, fill),
        "shearY" => PilOps.Affine(img, 1, 0, 0, magnitude * Sign(rng), 1, 0, InterpolationFlags.Cubic, fill),
        "translateX" => PilOps.Affine(img, 1, 0, magnitude * img.Width * Sign(rng), 0, 1, 0, InterpolationFlags.Nearest, fill),
        "translateY" => PilOps.Affine(img, 1, 0, 0, 0, 1, magnitude * img.Height * Sign(rng), InterpolationFlags.Nearest, fill),
        "rotate" => PilOps.Rotate(img, magnitude, InterpolationFlags.Nearest, Gray),
        "color" => PilOps.Color(img, 1 + magnitude * Sign(rng)),
        "posterize" => PilOps.Posterize(img, (int)magnitude),
        "solarize" => PilOps.Solarize(img, magnitude),
        "contrast" => PilOps.Contrast(img, 1 + magnitude * Sign(rng)),
        "sharpness" => PilOps.Sharpness(img, 1 + magnitude * Sign(rng)),
        "brightness" => PilOps.Brightness(img, 1 + magnitude * Sign(rng)),
        "autocontrast" => PilOps.AutoContrast(img),
        "equalize" => PilOps.Equalize(img),
        "invert" => PilOps.Invert(img),
        _ => throw new InvalidOperationException($"unknown policy op {name}"),
    };

    public static void Run(ImageSample sample, string op, string name, double magnitude, Scalar fill, Random rng)
    {
        var image = sample.RequireImage(op);
        if (image.Type() != MatType.CV_8UC3) throw new InvalidOperationException($"{op} needs uint8 RGB images; put it before NormalizeImage");
        sample.SetImage(Apply(name, image, magnitude, fill, rng));
    }

    public static Scalar ReadFill(ConfigSection s)
    {
        var fill = s.OptionalIntList("fillcolor");
        if (fill is null) return Gray;
        if (fill.Count != 3) throw ConfigException.At(s.KeyPath("fillcolor"), s.Map["fillcolor"]?.Location, "expected three values [r, g, b]");
        return new Scalar(fill[0], fill[1], fill[2]);
    }
}

/// <summary>
/// PaddleClas's `RandAugment` (`num_layers`, `magnitude` 0-10, `fillcolor`): each layer applies
/// one of 14 ops chosen uniformly, at the op's level for magnitude / 10.
/// </summary>
public sealed class RandAugment(int layers, double magnitude, Scalar fill) : IImageOp
{
    public string Name => "RandAugment";

    static readonly string[] OpNames =
        ["shearX", "shearY", "translateX", "translateY", "rotate", "color", "posterize", "solarize", "contrast", "sharpness", "brightness", "autocontrast", "equalize", "invert"];

    public static RandAugment Create(ConfigSection s) =>
        new(s.Int("num_layers", 2), s.Double("magnitude", 5), PolicyOps.ReadFill(s));

    double Level(string name)
    {
        double a = magnitude / 10;
        return name switch
        {
            "shearX" or "shearY" => 0.3 * a,
            "translateX" or "translateY" => 150.0 / 331 * a,
            "rotate" => 30 * a,
            "posterize" => (int)(4.0 * a),
            "solarize" => 256.0 * a,
            "color" or "contrast" or "sharpness" or "brightness" => 0.9 * a,
            _ => 0,
        };
    }

    public void Apply(ImageSample sample, Random rng)
    {
        for (int i = 0; i < layers; i++)
        {
            string name = OpNames[rng.Next(OpNames.Length)];
            PolicyOps.Run(sample, Name, name, Level(name), fill, rng);
        }
    }
}

/// <summary>`AutoAugment`: the ImageNet policy of AutoAugment (25 sub-policies of two ops each, with probabilities and magnitude bins).</summary>
public sealed class AutoAugment : IImageOp
{
    public string Name => "AutoAugment";

    static readonly (double P1, string Op1, int M1, double P2, string Op2, int M2)[] Policy =
    [
        (0.4, "posterize", 8, 0.6, "rotate", 9), (0.6, "solarize", 5, 0.6, "autocontrast", 5),
        (0.8, "equalize", 8, 0.6, "equalize", 3), (0.6, "posterize", 7, 0.6, "posterize", 6),
        (0.4, "equalize", 7, 0.2, "solarize", 4), (0.4, "equalize", 4, 0.8, "rotate", 8),
        (0.6, "solarize", 3, 0.6, "equalize", 7), (0.8, "posterize", 5, 1.0, "equalize", 2),
        (0.2, "rotate", 3, 0.6, "solarize", 8), (0.6, "equalize", 8, 0.4, "posterize", 6),
        (0.8, "rotate", 8, 0.4, "color", 0), (0.4, "rotate", 9, 0.6, "equalize", 2),
        (0.0, "equalize", 7, 0.8, "equalize", 8), (0.6, "invert", 4, 1.0, "equalize", 8),
        (0.6, "color", 4, 1.0, "contrast", 8), (0.8, "rotate", 8, 1.0, "color", 2),
        (0.8, "color", 8, 0.8, "solarize", 7), (0.4, "sharpness", 7, 0.6, "invert", 8),
        (0.6, "shearX", 5, 1.0, "equalize", 9), (0.4, "color", 0, 0.6, "equalize", 3),
        (0.4, "equalize", 7, 0.2, "solarize", 4), (0.6, "solarize", 5, 0.6, "autocontrast", 5),
        (0.6, "invert", 4, 1.0, "equalize", 8), (0.6, "color", 4, 1.0, "contrast", 8),
        (0.8, "equalize", 8, 0.6, "equalize", 3),
    ];

    /// <summary>Magnitude bin i (0-9) of an op, as np.linspace over the op's range (posterize rounded).</summary>
    public static double Magnitude(string op, int bin)
    {
        static double Lin(double a, double b, int i) => a + (b - a) * i / 9.0;
        return op switch
        {
            "shearX" or "shearY" => Lin(0, 0.3, bin),
            "translateX" or "translateY" => Lin(0, 150.0 / 331, bin),
            "rotate" => Lin(0, 30, bin),
            "posterize" => Math.Round(Lin(8, 4, bin), MidpointRounding.ToEven),
            "solarize" => Lin(256, 0, bin),
            "color" or "contrast" or "sharpness" or "brightness" => Lin(0, 0.9, bin),
            _ => 0,
        };
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var p = Policy[rng.RandInt(0, Policy.Length - 1)];
        if (rng.NextDouble() < p.P1) PolicyOps.Run(sample, Name, p.Op1, Magnitude(p.Op1, p.M1), PolicyOps.Gray, rng);
        if (rng.NextDouble() < p.P2) PolicyOps.Run(sample, Name, p.Op2, Magnitude(p.Op2, p.M2), PolicyOps.Gray, rng);
    }
}
