using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// `RandomCropImage` (PULC attributes, after Padv2): a `size` ([w, h] or square) window at a
/// uniformly random position, no resizing; an image smaller than the window is an error.
/// </summary>
public sealed class RandomCropImage(Size size) : IGeometricOp
{
    public string Name => "RandomCropImage";

    public static RandomCropImage Create(ConfigSection s, Action<string> notice)
    {
        var size = OpOptions.OptionalSize(s, "size");
        OpOptions.RequireAllKeysKnown(s, notice);
        return new RandomCropImage(size ?? throw ConfigException.At(s.KeyPath("size"), s.Location, "required key is missing; add it, e.g. size: [192, 256]"));
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        int imageW = image.Width, imageH = image.Height;
        if (imageW < size.Width || imageH < size.Height)
            throw new InvalidOperationException($"RandomCropImage: the image is {imageW}x{imageH}, smaller than the {size.Width}x{size.Height} window; pad (Padv2) or resize it first");
        int y = rng.RandInt(0, imageH - size.Height);
        int x = rng.RandInt(0, imageW - size.Width);
        using var window = new Mat(image, new Rect(x, y, size.Width, size.Height));
        sample.SetImage(window.Clone());
    }
}
