using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// `Cutout` (ML-Decoder's COCO recipe): `n_holes` times, a centre drawn uniformly over the image and
/// the box from centre - `length`/2 to centre + `length`/2 (clipped; both corners included, as
/// cv2.rectangle fills) painted with `fill_value`: `none` draws a random colour (0 .. 255 per
/// channel) per hole; numbers (one, or one per channel) paint that colour.
/// </summary>
public sealed class Cutout(int holes, int length, double[]? fill) : IImageOp
{
    public string Name => "Cutout";

    public static Cutout Create(ConfigSection s)
    {
        int holes = s.Int("n_holes", 1), length = s.Int("length", 112);
        if (holes < 1) throw ConfigException.At(s.KeyPath("n_holes"), s.Map["n_holes"]?.Location, $"must be at least 1, got {holes}");
        if (length < 1) throw ConfigException.At(s.KeyPath("length"), s.Map["length"]?.Location, $"must be at least 1, got {length}");
        double[]? fill = null;
        if (s.Raw("fill_value") is { } node and not ConfigScalar { IsNull: true } and not ConfigScalar { Text: "none" })
        {
            var values = s.OptionalDoubleList("fill_value")!;
            if (values.Count is not (1 or 3))
                throw ConfigException.At(s.KeyPath("fill_value"), node.Location, $"expected none (a random colour per hole), one number or three, got {values.Count} numbers");
            fill = values.Count == 1 ? [values[0], values[0], values[0]] : [.. values];
        }
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
            var colour = fill is null ? new Scalar(rng.RandInt(0, 255), rng.RandInt(0, 255), rng.RandInt(0, 255)) : new Scalar(fill[0], fill[1], fill[2]);
            Cv2.Rectangle(image, new Point(x1, y1), new Point(x2, y2), colour, -1);
        }
    }
}
