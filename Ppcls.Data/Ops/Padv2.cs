using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// `Padv2` (PULC person and vehicle attributes): pads the image onto a float32 canvas of `size`
/// ([w, h] or square; without it, the next multiple of `size_divisor`) filled with `fill_value`
/// (one number or one per channel, default 127.5). `pad_mode` places the image: 0 top-left, 1
/// centred ((canvas - image) / 2, rounded down), 2 bottom-right, -1 at `offsets` [x, y]. The
/// result is float32 even when nothing is padded, as in PaddleClas.
/// </summary>
public sealed class Padv2(Size? size, int sizeDivisor, int padMode, Point offsets, double[] fill) : IImageOp
{
    public string Name => "Padv2";

    public static Padv2 Create(ConfigSection s)
    {
        var size = OpOptions.OptionalSize(s, "size");
        int divisor = s.Int("size_divisor", 32);
        int mode = s.Int("pad_mode", 0);
        var offsets = s.OptionalIntList("offsets");
        var fill = s.OptionalDoubleList("fill_value") ?? [127.5, 127.5, 127.5];
        if (mode is < -1 or > 2)
            throw ConfigException.At(s.KeyPath("pad_mode"), s.Map["pad_mode"]?.Location, $"must be -1 (offsets), 0 (top-left), 1 (centre) or 2 (bottom-right), got {mode}");
        if (mode == -1 && offsets is not [>= 0, >= 0])
            throw ConfigException.At(s.KeyPath("offsets"), s.Map["offsets"]?.Location ?? s.Location, "pad_mode -1 places the image at offsets: [x, y] (two numbers, 0 or more); add them");
        if (size is null && divisor < 1)
            throw ConfigException.At(s.KeyPath("size_divisor"), s.Map["size_divisor"]?.Location, $"must be at least 1, got {divisor}");
        if (fill.Count is not (1 or 3))
            throw ConfigException.At(s.KeyPath("fill_value"), s.Map["fill_value"]?.Location, $"expected one number or three (one per channel), got {fill.Count}");
        double[] perChannel = fill.Count == 1 ? [fill[0], fill[0], fill[0]] : [.. fill];
        return new Padv2(size, divisor, mode, offsets is [int x, int y] ? new Point(x, y) : default, perChannel);
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        int imageW = image.Width, imageH = image.Height;
        var (w, h) = size is { } s
            ? (s.Width, s.Height)
            : ((imageW + sizeDivisor - 1) / sizeDivisor * sizeDivisor, (imageH + sizeDivisor - 1) / sizeDivisor * sizeDivisor);
        if (imageW > w || imageH > h)
            throw new InvalidOperationException($"Padv2: the image is {imageW}x{imageH}, larger than size {w}x{h}; resize it first or pad to a larger size");
        var at = padMode switch
        {
            -1 => offsets,
            0 => new Point(0, 0),
            1 => new Point((w - imageW) / 2, (h - imageH) / 2),
            _ => new Point(w - imageW, h - imageH),
        };
        if (at.X + imageW > w || at.Y + imageH > h)
            throw new InvalidOperationException($"Padv2: offsets [{at.X}, {at.Y}] put the {imageW}x{imageH} image outside the {w}x{h} canvas");
        var canvas = new Mat(h, w, MatType.CV_32FC3, new Scalar(fill[0], fill[1], fill[2]));
        using var region = new Mat(canvas, new Rect(at.X, at.Y, imageW, imageH));
        image.ConvertTo(region, MatType.CV_32F);
        sample.SetImage(canvas);
    }
}
