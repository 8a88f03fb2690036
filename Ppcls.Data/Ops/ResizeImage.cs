using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Ops;

/// <summary>
/// `ResizeImage`: to a fixed `size` ([w, h] or square), or with `resize_short` so the short side
/// has that length (the long side scales by the same factor, rounded half to even as Python does).
/// </summary>
public sealed class ResizeImage(Size? size, int? resizeShort, Interpolation interpolation) : IGeometricOp, ISizedOp, IDeployableOp
{
    public string Name => "ResizeImage";

    /// <summary>A fixed-size resize to <paramref name="newSize"/> (a `resize_short` is replaced too).</summary>
    public IImageOp WithSize(Size newSize) => new ResizeImage(newSize, null, interpolation);

    public (Size Size, string Key, bool Exact) OutputSize =>
        resizeShort is { } r ? (new Size(r, r), "resize_short", false) : (size!.Value, "size", true);

    public static ResizeImage Create(ConfigSection s, Action<string> notice)
    {
        var size = OpOptions.OptionalSize(s, "size");
        var shortSide = (int?)s.OptionalLong("resize_short");
        if (shortSide > OpOptions.MaxSide) throw OpOptions.TooLarge(s, "resize_short", shortSide.Value);
        var interpolation = OpOptions.ReadInterpolation(s, notice);
        s.Bool("return_numpy", true);
        OpOptions.RequireAllKeysKnown(s, notice);
        if (shortSide is not > 0) shortSide = null;
        if (shortSide is null && size is null)
            throw ConfigException.At(s.Path, s.Location, "needs 'size' or 'resize_short', e.g. resize_short: 256");
        return new ResizeImage(shortSide is null ? size : null, shortSide, interpolation);
    }

    /// <summary>The deploy op; `interpolation: random` is a training augmentation and has none.</summary>
    public IPreprocessOp ToDeploy(string keyPath) => interpolation.Mode != InterpolationMode.Random
        ? new ResizeOp(size, resizeShort, interpolation.Filters[0])
        : throw new ConfigException($"{keyPath}: ResizeImage interpolation: random picks a filter per sample, which a deployed model should not; name one filter (e.g. bilinear)");

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        var target = ResizeOp.TargetSize(image.Width, image.Height, size, resizeShort);
        sample.SetImage(ResizeOp.Resize(image, target, interpolation.Pick(rng)));
    }
}
