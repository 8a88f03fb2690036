using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// PaddleClas <c>Cutout</c>: <c>n_holes</c> (default 1) squares of side about <c>length</c> (default
/// 112) filled with one colour: each centred on a uniformly random pixel (y, x), covering rows
/// clip(y - length/2) .. clip(y + length/2) and the same columns, both ends included as
/// cv2.rectangle draws them. <c>fill_value: none</c> draws a random colour (each channel 0..255) per
/// hole; a list gives the colour (PaddleClas fails on a list; Ppcls uses it; the default [0, 0, 0]).
/// </summary>
public sealed class Cutout(int holes, int length, double[]? fill) : IImageOp
{
    public string Name => "Cutout";

    public static Cutout Create(ConfigSection s, Action<string> notice)
    {
        int holes = s.Int("n_holes", 1);
        int length = s.Int("length", 112);
        if (holes < 0) throw ConfigException.At(s.KeyPath("n_holes"), s.Raw("n_holes")?.Location, $"must be 0 or more, got {holes}");
        if (length < 0) throw ConfigException.At(s.KeyPath("length"), s.Raw("length")?.Location, $"must be 0 or more, got {length}");
        double[]? fill = [0, 0, 0];
        var raw = s.Raw("fill_value");
        if (raw is ConfigScalar { IsNull: true } || raw is ConfigScalar { Text: "none" or "None" }) fill = null;
        else if (raw is not null)
            fill = s.OptionalDoubleList("fill_value") is { Count: 3 } list ? [.. list]
                : throw ConfigException.At(s.KeyPath("fill_value"), raw.Location, "expected none (a random colour per hole) or three values [r, g, b]");
        s.Finish(notice);
        return new Cutout(holes, length, fill);
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        int h = image.Height, w = image.Width;
        for (int n = 0; n < holes; n++)
        {
            int y = rng.Next(h), x = rng.Next(w);
            int y1 = Math.Clamp(y - length / 2, 0, h), y2 = Math.Clamp(y + length / 2, 0, h);
            int x1 = Math.Clamp(x - length / 2, 0, w), x2 = Math.Clamp(x + length / 2, 0, w);
            var colour = fill ?? [rng.RandInt(0, 255), rng.RandInt(0, 255), rng.RandInt(0, 255)];
            Cv2.Rectangle(image, new Point(x1, y1), new Point(x2, y2), new Scalar(colour[0], colour[1], colour[2]), -1);
        }
    }
}
