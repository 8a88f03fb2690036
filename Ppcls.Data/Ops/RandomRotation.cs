using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Ops.Augment;

namespace Ppcls.Data.Ops;

/// <summary>
/// `RandomRotation` (PaddleClas operators.py over paddle.vision's): with probability `prob` (0.5), a
/// rotation by an angle drawn uniformly from [-degrees, degrees] (or [min, max]), counter-clockwise
/// about the centre as PIL's rotate, same size, uncovered pixels `fill` (0); `interpolation` nearest
/// (the default), bilinear or bicubic. `expand` and `center` change the geometry and are refused.
/// </summary>
public sealed class RandomRotation(double probability, double minDegrees, double maxDegrees, InterpolationFlags interpolation, int fill) : IGeometricOp
{
    public string Name => "RandomRotation";

    public static RandomRotation Create(ConfigSection s, Action<string> notice)
    {
        double prob = OpOptions.Probability(s, "prob", 0.5);
        var degrees = s.OptionalDoubleList("degrees") ?? throw ConfigException.At(s.KeyPath("degrees"), s.Location, "required key is missing; add it, e.g. degrees: 90");
        if (degrees.Count is not (1 or 2) || (degrees.Count == 1 && degrees[0] < 0) || (degrees.Count == 2 && degrees[0] > degrees[1]))
            throw ConfigException.At(s.KeyPath("degrees"), s.Raw("degrees")?.Location, "expected a non-negative number d (angles in [-d, d]) or [min, max]");
        var (low, high) = degrees.Count == 1 ? (-degrees[0], degrees[0]) : (degrees[0], degrees[1]);
        var filter = s.Choice("interpolation", "nearest", "nearest", "bilinear", "bicubic") switch
        {
            "bilinear" => InterpolationFlags.Linear,
            "bicubic" => InterpolationFlags.Cubic,
            _ => InterpolationFlags.Nearest,
        };
        foreach (var key in new[] { "expand", "center" })
            if (s.Has(key) && !(key == "expand" && !s.Bool(key, false)))
                throw ConfigException.At(s.KeyPath(key), s.Raw(key)?.Location, "is not supported in Ppcls (the image is rotated about its centre, keeping its size); remove it");
        int fill = OpOptions.PixelValue(s, "fill", 0);
        OpOptions.RequireAllKeysKnown(s, notice);
        return new RandomRotation(prob, low, high, filter, fill);
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        if (rng.NextDouble() >= probability) return;
        double angle = rng.Uniform(minDegrees, maxDegrees);
        sample.SetImage(PilOps.Rotate(image, angle, interpolation, new Scalar(fill, fill, fill)));
    }
}
