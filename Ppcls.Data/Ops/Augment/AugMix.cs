using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops.Augment;

/// <summary>
/// `AugMix` (Hendrycks et al., as PaddleClas's operators.py and functional.py run it): with probability
/// `prob`, `mixture_width` chains of `mixture_depth` ops (-1: 1 to 3 per chain) drawn from autocontrast,
/// equalize, posterize, rotate, solarize, shear x/y and translate x/y at `aug_severity`, each op's level
/// drawn uniformly from [0.1, severity); the chains are mixed with Dirichlet(`aug_prob_coeff`) weights and
/// blended with the image by m ~ Beta(coeff, coeff): (1 - m) image + m mix, truncated to uint8. The ops
/// treat the three channels alike, so the channel order does not matter.
/// </summary>
public sealed class AugMix(double probability, double coefficient, int width, int depth, int severity) : IImageOp
{
    delegate Mat Chain(Mat image, int severity, Random rng);

    static readonly Chain[] Augmentations =
    [
        (img, _, _) => PilOps.AutoContrast(img),
        (img, _, _) => PilOps.Equalize(img),
        (img, s, rng) => PilOps.Posterize(img, 4 - IntLevel(rng, s, 4)),
        (img, s, rng) => PilOps.Rotate(img, Signed(rng, IntLevel(rng, s, 30)), InterpolationFlags.Linear, Scalar.All(0)),
        (img, s, rng) => PilOps.Solarize(img, 256 - IntLevel(rng, s, 256)),
        (img, s, rng) => PilOps.Affine(img, 1, Signed(rng, FloatLevel(rng, s, 0.3)), 0, 0, 1, 0, InterpolationFlags.Linear, Scalar.All(0)),
        (img, s, rng) => PilOps.Affine(img, 1, 0, 0, Signed(rng, FloatLevel(rng, s, 0.3)), 1, 0, InterpolationFlags.Linear, Scalar.All(0)),
        (img, s, rng) => PilOps.Affine(img, 1, 0, Signed(rng, IntLevel(rng, s, img.Width / 3.0)), 0, 1, 0, InterpolationFlags.Linear, Scalar.All(0)),
        (img, s, rng) => PilOps.Affine(img, 1, 0, 0, 0, 1, Signed(rng, IntLevel(rng, s, img.Height / 3.0)), InterpolationFlags.Linear, Scalar.All(0)),
    ];

    public string Name => "AugMix";

    public static AugMix Create(ConfigSection s, Action<string> notice)
    {
        double prob = OpOptions.Probability(s, "prob", 0.5);
        double coefficient = s.Double("aug_prob_coeff", 0.1);
        if (coefficient <= 0) throw ConfigException.At(s.KeyPath("aug_prob_coeff"), s.Raw("aug_prob_coeff")?.Location, $"must be positive, got {coefficient}");
        int width = s.Int("mixture_width", 3);
        if (width < 1) throw ConfigException.At(s.KeyPath("mixture_width"), s.Raw("mixture_width")?.Location, $"must be at least 1, got {width}");
        int depth = s.Int("mixture_depth", 1);
        if (depth == 0 || depth < -1)
            throw ConfigException.At(s.KeyPath("mixture_depth"), s.Raw("mixture_depth")?.Location, $"must be -1 (1 to 3 ops per chain) or at least 1, got {depth}");
        int severity = s.Int("aug_severity", 1);
        if (severity is < 1 or > 10) throw ConfigException.At(s.KeyPath("aug_severity"), s.Raw("aug_severity")?.Location, $"must be 1..10, got {severity}");
        OpOptions.RequireAllKeysKnown(s, notice);
        return new AugMix(prob, coefficient, width, depth, severity);
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        if (rng.NextDouble() > probability) return;
        var weights = Dirichlet(rng);
        double m = rng.Beta(coefficient, coefficient);
        var original = Bytes(image);
        var mix = new double[original.Length];
        for (int chain = 0; chain < width; chain++)
        {
            var augmented = image.Clone();
            int ops = depth > 0 ? depth : rng.RandInt(1, 3);
            for (int i = 0; i < ops; i++)
            {
                var next = Augmentations[rng.Next(Augmentations.Length)](augmented, severity, rng);
                augmented.Dispose();
                augmented = next;
            }
            var pixels = Bytes(augmented);
            augmented.Dispose();
            for (int j = 0; j < mix.Length; j++) mix[j] += weights[chain] * pixels[j];
        }
        var mixed = new byte[original.Length];
        for (int j = 0; j < mixed.Length; j++) mixed[j] = (byte)Math.Clamp(Math.Floor((1 - m) * original[j] + m * mix[j]), 0, 255);
        sample.SetImage(Mat.FromPixelData(image.Rows, image.Cols, image.Type(), mixed).Clone());
    }

    /// <summary>numpy's dirichlet([coeff] * width): normalised Gamma(coeff) draws.</summary>
    double[] Dirichlet(Random rng)
    {
        var draws = Enumerable.Range(0, width).Select(_ => rng.Gamma(coefficient)).ToArray();
        double total = draws.Sum();
        return total > 0 ? [.. draws.Select(d => d / total)] : [.. draws.Select(_ => 1.0 / width)];
    }

    static byte[] Bytes(Mat image)
    {
        using var continuous = image.Clone(); // a clone is continuous
        var bytes = new byte[continuous.Total() * continuous.ElemSize()];
        System.Runtime.InteropServices.Marshal.Copy(continuous.Data, bytes, 0, bytes.Length);
        return bytes;
    }

    static double SampleLevel(Random rng, int severity) => rng.Uniform(0.1, severity);

    static int IntLevel(Random rng, int severity, double max) => (int)(SampleLevel(rng, severity) * max / 10);

    static double FloatLevel(Random rng, int severity, double max) => SampleLevel(rng, severity) * max / 10;

    static double Signed(Random rng, double level) => rng.NextDouble() > 0.5 ? -level : level;
}
