using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// PaddleClas <c>RandomCropImage</c>: a <c>size</c> ([w, h] or square) window at a uniformly random
/// position (top row and left column each drawn from 0..(image - window) inclusive), no resize. An
/// image smaller than the window is an error naming it.
/// </summary>
public sealed class RandomCropImage(Size size) : IGeometricOp
{
    public string Name => "RandomCropImage";
    public Size Size { get; } = size;

    public static RandomCropImage Create(ConfigSection s, Action<string> notice)
    {
        var size = OpOptions.OptionalSize(s, "size");
        OpOptions.RequireAllKeysKnown(s, notice);
        return new RandomCropImage(size ?? throw ConfigException.At(s.KeyPath("size"), s.Location, "required key is missing; add it, e.g. size: [192, 256]"));
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        if (image.Height < Size.Height || image.Width < Size.Width)
            throw new InvalidOperationException($"RandomCropImage: the image is {image.Width}x{image.Height}, smaller than the {Size.Width}x{Size.Height} window; pad or resize it first");
        int top = rng.RandInt(0, image.Height - Size.Height);
        int left = rng.RandInt(0, image.Width - Size.Width);
        using var window = image[new Rect(left, top, Size.Width, Size.Height)];
        sample.SetImage(window.Clone());
    }
}
