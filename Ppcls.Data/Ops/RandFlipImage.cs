using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>`RandFlipImage`: with probability 1/2, cv2.flip with `flip_code` (1 horizontal, 0 vertical, -1 both).</summary>
public sealed class RandFlipImage(FlipMode mode) : IGeometricOp
{
    public string Name => "RandFlipImage";

    public static RandFlipImage Create(ConfigSection s)
    {
        long code = s.OptionalLong("flip_code") ?? 1;
        if (code is not (-1 or 0 or 1))
            throw ConfigException.At(s.KeyPath("flip_code"), s.Map["flip_code"]?.Location, $"must be 1 (horizontal), 0 (vertical) or -1 (both), got {code}");
        return new RandFlipImage(code switch { 1 => FlipMode.Y, 0 => FlipMode.X, _ => FlipMode.XY });
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        if (rng.RandInt(0, 1) == 1) Cv2.Flip(image, image, mode);
    }
}
