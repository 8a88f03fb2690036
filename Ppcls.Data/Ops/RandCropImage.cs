using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Ops;

/// <summary>
/// `RandCropImage` (RandomResizedCrop as PaddleClas implements it): draw an aspect ratio from
/// `ratio` (log-uniform with `use_log_aspect`), cap the area fraction range `scale` by what fits
/// at that ratio, draw the fraction, take w = floor(sqrt(area * ratio)), h = floor(sqrt(area / ratio)),
/// a uniform top-left corner, and resize the box to `size`. One draw, no retries.
/// </summary>
public sealed class RandCropImage(Size size, (double Low, double High) scale, (double Low, double High) ratio, bool logAspect, Interpolation interpolation) : IGeometricOp, ISizedOp
{
    public string Name => "RandCropImage";

    public IImageOp WithSize(Size newSize) => new RandCropImage(newSize, scale, ratio, logAspect, interpolation);

    public (Size Size, string Key, bool Exact) OutputSize => (size, "size", true);

    public static RandCropImage Create(ConfigSection s, Action<string> notice)
    {
        var size = OpOptions.OptionalSize(s, "size");
        var scale = OpOptions.Range(s, "scale", 0.08, 1.0);
        var ratio = OpOptions.Range(s, "ratio", 3.0 / 4.0, 4.0 / 3.0);
        if (ratio.Low <= 0) throw ConfigException.At(s.KeyPath("ratio"), s.Map["ratio"]?.Location, "aspect ratios must be positive");
        bool logAspect = s.Bool("use_log_aspect", false);
        if (s.Raw("progress_size") is ConfigList)
            notice($"{s.KeyPath("progress_size")}: progressive resizing is not supported; 'size' is used every epoch");
        var interpolation = OpOptions.ReadInterpolation(s, notice);
        OpOptions.RequireAllKeysKnown(s, notice);
        if (size is null) throw ConfigException.At(s.KeyPath("size"), s.Location, "required key is missing; add it, e.g. size: 224");
        return new RandCropImage(size.Value, scale, ratio, logAspect, interpolation);
    }

    /// <summary>The crop box for an image of <paramref name="width"/> x <paramref name="height"/>.</summary>
    public Rect Box(int width, int height, Random rng)
    {
        double aspect = logAspect
            ? Math.Exp(rng.Uniform(Math.Log(ratio.Low), Math.Log(ratio.High)))
            : rng.Uniform(ratio.Low, ratio.High);
        double bound = Math.Min((double)width / height / aspect, (double)height / width * aspect);
        double scaleMax = Math.Min(scale.High, bound);
        double scaleMin = Math.Min(scale.Low, bound);
        double area = width * height * rng.Uniform(scaleMin, scaleMax);
        int w = Math.Clamp((int)Math.Sqrt(area * aspect), 1, width);
        int h = Math.Clamp((int)Math.Sqrt(area / aspect), 1, height);
        int x = rng.RandInt(0, width - w);
        int y = rng.RandInt(0, height - h);
        return new Rect(x, y, w, h);
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        var box = Box(image.Width, image.Height, rng);
        using var view = new Mat(image, box);
        sample.SetImage(ResizeOp.Resize(view, size, interpolation.Pick(rng)));
    }
}
