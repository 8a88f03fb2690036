using OpenCvSharp;
using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>`CropImage`: the centre `size` ([w, h] or square) box, offsets floor((W - w) / 2), floor((H - h) / 2).</summary>
public sealed class CropImage(Size size) : IGeometricOp, ISizedOp
{
    public string Name => "CropImage";

    public IImageOp WithSize(Size newSize) => new CropImage(newSize);

    public (Size Size, string Key, bool Exact) OutputSize => (size, "size", true);

    public static CropImage Create(ConfigSection s, Action<string> notice)
    {
        var size = OpOptions.OptionalSize(s, "size");
        OpOptions.RequireAllKeysKnown(s, notice);
        return new CropImage(size ?? throw ConfigException.At(s.KeyPath("size"), s.Location, "required key is missing; add it, e.g. size: 224"));
    }

    public static Rect Box(int width, int height, Size size) =>
        new((width - size.Width) / 2, (height - size.Height) / 2, size.Width, size.Height);

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        if (image.Width < size.Width || image.Height < size.Height)
            throw new PpclsUserException(
                $"{sample.Source}: CropImage size {size.Width}x{size.Height} is larger than the image ({image.Width}x{image.Height}); resize first (ResizeImage resize_short)");
        // A view into the same pixels (OpenCV counts the references): no copy.
        sample.SetImage(new Mat(image, Box(image.Width, image.Height, size)));
    }
}
