using OpenCvSharp;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops.Augment;

/// <summary>
/// PaddleClas's `RandAugmentV4` (the ML-Decoder recipe, no options): two sub-operations, each an op
/// of 15 (PolicyOps' 14 and a zero-filled cutout) at a magnitude bin 1-9 drawn uniformly and
/// independently, each applied with probability 0.5 (PaddleClas draws one of the 135 x 135 pairs,
/// which is the same distribution). Magnitudes are AutoAugment's bins; cutout's are
/// round(linspace(0, 20, 10)) px: the zeroed box is rows cy-m .. cy+m-1 (clipped), the centre
/// (cy, cx) drawn from 0..H and 0..W inclusive.
/// </summary>
public sealed class RandAugmentV4 : IImageOp
{
    public string Name => "RandAugmentV4";

    static readonly string[] Ops =
        ["shearX", "shearY", "translateX", "translateY", "rotate", "color", "posterize", "solarize", "contrast", "sharpness", "brightness",
         "autocontrast", "equalize", "invert", "cutout"];

    public static double Magnitude(string op, int bin) => op == "cutout" ? Math.Round(20.0 * bin / 9, MidpointRounding.ToEven) : AutoAugment.Magnitude(op, bin);

    public void Apply(ImageSample sample, Random rng)
    {
        var (op1, bin1) = (Ops[rng.Next(Ops.Length)], rng.RandInt(1, 9));
        var (op2, bin2) = (Ops[rng.Next(Ops.Length)], rng.RandInt(1, 9));
        if (rng.NextDouble() < 0.5) Run(sample, op1, Magnitude(op1, bin1), rng);
        if (rng.NextDouble() < 0.5) Run(sample, op2, Magnitude(op2, bin2), rng);
    }

    void Run(ImageSample sample, string op, double magnitude, Random rng)
    {
        if (op != "cutout")
        {
            PolicyOps.Run(sample, Name, op, magnitude, PolicyOps.Gray, rng);
            return;
        }
        var image = sample.RequireImage(Name);
        int cy = rng.RandInt(0, image.Height), cx = rng.RandInt(0, image.Width);
        ZeroBox(image, cy, cx, (int)magnitude);
    }

    /// <summary>PaddleClas's randaugment cutout: zeroes rows cy-pad .. cy+pad-1 and columns cx-pad .. cx+pad-1, clipped to the image.</summary>
    public static void ZeroBox(Mat image, int cy, int cx, int pad)
    {
        int top = Math.Max(0, cy - pad), bottom = Math.Min(image.Height, cy + pad);
        int left = Math.Max(0, cx - pad), right = Math.Min(image.Width, cx + pad);
        if (bottom <= top || right <= left) return;
        using var box = image[new Rect(left, top, right - left, bottom - top)];
        box.SetTo(Scalar.All(0));
    }
}
