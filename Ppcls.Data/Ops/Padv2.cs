using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// PaddleClas <c>Padv2</c>: places the image on a float32 canvas of <c>size</c> ([w, h] or square;
/// without it, the image size rounded up to a multiple of <c>size_divisor</c>, default 32) filled with
/// <c>fill_value</c> (one value or one per channel, default 127.5). <c>pad_mode</c> places it: 0 top
/// left, 1 centred (offsets rounded down), 2 bottom right, -1 at <c>offsets</c> [x, y]. An image
/// already of that size is returned as float32 unchanged; a larger one is an error naming the image.
/// </summary>
public sealed class Padv2(Size? size, int sizeDivisor, int padMode, Point? offsets, double[] fill) : IImageOp
{
    public string Name => "Padv2";

    public static Padv2 Create(ConfigSection s, Action<string> notice)
    {
        var size = OpOptions.OptionalSize(s, "size");
        int divisor = s.Int("size_divisor", 32);
        if (divisor < 1) throw ConfigException.At(s.KeyPath("size_divisor"), s.Raw("size_divisor")?.Location, $"must be at least 1, got {divisor}");
        int mode = s.Int("pad_mode", 0);
        if (mode is < -1 or > 2)
            throw ConfigException.At(s.KeyPath("pad_mode"), s.Raw("pad_mode")?.Location, $"must be -1 (offsets), 0 (top left), 1 (centre) or 2 (bottom right), got {mode}");
        Point? offsets = null;
        if (s.OptionalIntList("offsets") is { } list)
            offsets = list.Count == 2 && list.All(v => v >= 0) ? new Point(list[0], list[1])
                : throw ConfigException.At(s.KeyPath("offsets"), s.Raw("offsets")?.Location, "expected [offset_x, offset_y], two non-negative integers");
        if (mode == -1 && offsets is null)
            throw ConfigException.At(s.KeyPath("offsets"), s.Location, "pad_mode -1 places the image at offsets; add offsets: [x, y]");
        var fill = s.OptionalDoubleList("fill_value") is { } values
            ? values.Count switch
            {
                1 => [values[0], values[0], values[0]],
                3 => values.ToArray(),
                _ => throw ConfigException.At(s.KeyPath("fill_value"), s.Raw("fill_value")?.Location, $"expected one value or three (one per channel), got {values.Count}"),
            }
            : new[] { 127.5, 127.5, 127.5 };
        s.Finish(notice);
        return new Padv2(size, divisor, mode, offsets, fill);
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        int h = size?.Height ?? (int)Math.Ceiling(image.Height / (double)sizeDivisor) * sizeDivisor;
        int w = size?.Width ?? (int)Math.Ceiling(image.Width / (double)sizeDivisor) * sizeDivisor;
        if (image.Height > h || image.Width > w)
            throw new InvalidOperationException($"Padv2: the image is {image.Width}x{image.Height}, larger than the padded size {w}x{h}; resize it first or raise size");
        var floats = new Mat();
        image.ConvertTo(floats, MatType.CV_32FC(image.Channels()));
        if (h == image.Height && w == image.Width)
        {
            sample.SetImage(floats);
            return;
        }
        var (x, y) = padMode switch
        {
            -1 => (offsets!.Value.X, offsets.Value.Y),
            0 => (0, 0),
            1 => ((w - image.Width) / 2, (h - image.Height) / 2),
            _ => (w - image.Width, h - image.Height),
        };
        var canvas = new Mat(h, w, floats.Type(), new Scalar(fill[0], fill[1], fill[2]));
        using (floats)
        using (var region = canvas[new Rect(x, y, image.Width, image.Height)])
            floats.CopyTo(region);
        sample.SetImage(canvas);
    }
}
