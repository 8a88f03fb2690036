using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// `RandCropImageV2` (PaddleClas operators.py): a `size` crop (one number, or a pair that PaddleClas
/// unpacks as [width, height]) at a uniform position, without resizing. As PaddleClas draws the corner with Python's inclusive randint(0, side -
/// crop + 1), the crop can start one pixel past the last full position and then ends at the border, one
/// row or column short (a later resize restores the size, as in PP-ShiTuV2's recipe). An image smaller
/// than the crop by more than one pixel is an error naming the image.
/// </summary>
public sealed class RandCropImageV2(int cropWidth, int cropHeight) : IGeometricOp
{
    public string Name => "RandCropImageV2";

    public static RandCropImageV2 Create(ConfigSection s, Action<string> notice)
    {
        var size = s.OptionalIntList("size") ?? throw ConfigException.At(s.KeyPath("size"), s.Location, "required key is missing; add it, e.g. size: [224, 224]");
        if (size.Count is not (1 or 2) || size.Any(v => v < 1))
            throw ConfigException.At(s.KeyPath("size"), s.Raw("size")?.Location, "expected a positive size or a pair of them, e.g. [224, 224]");
        OpOptions.RequireAllKeysKnown(s, notice);
        return size.Count == 1 ? new RandCropImageV2(size[0], size[0]) : new RandCropImageV2(size[0], size[1]);
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        if (image.Height + 1 < cropHeight || image.Width + 1 < cropWidth)
            throw new BadImageException($"{sample.Source}: {Name} crop {cropHeight}x{cropWidth} is larger than the image {image.Height}x{image.Width}");
        if (image.Width == cropWidth && image.Height == cropHeight) return;
        int top = Math.Min(rng.RandInt(0, image.Height - cropHeight + 1), image.Height - 1);
        int left = Math.Min(rng.RandInt(0, image.Width - cropWidth + 1), image.Width - 1);
        var box = new Rect(left, top, Math.Min(cropWidth, image.Width - left), Math.Min(cropHeight, image.Height - top));
        using var view = new Mat(image, box);
        sample.SetImage(view.Clone());
    }
}
