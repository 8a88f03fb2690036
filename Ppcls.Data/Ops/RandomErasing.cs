using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// `RandomErasing`: with probability `EPSILON`, up to `attempt` tries to place a box of area
/// fraction U(`sl`, `sh`) and aspect U(`r1`, 1/`r1`) (log-uniform with `use_log_aspect`),
/// h = round(sqrt(area * aspect)), w = round(sqrt(area / aspect)), that fits strictly inside the
/// image, and fill it: `mode: const` with `mean`, `rand` with one normal draw per channel,
/// `pixel` with a normal draw per value. Usually placed after NormalizeImage (float pixels).
/// </summary>
public sealed class RandomErasing(double epsilon, double sl, double sh, double r1, bool logAspect, int attempt, string mode, double[] mean) : IImageOp
{
    public string Name => "RandomErasing";

    public static RandomErasing Create(ConfigSection s)
    {
        double epsilon = s.Double("EPSILON", 0.5);
        double sl = s.Double("sl", 0.02), sh = s.Double("sh", 0.4), r1 = s.Double("r1", 0.3);
        var mean = OpOptions.Triple(s, "mean", [0, 0, 0]);
        int attempt = s.Int("attempt", 100);
        bool logAspect = s.Bool("use_log_aspect", false);
        string mode = s.Choice("mode", "const", "const", "rand", "pixel");
        if (r1 <= 0) throw ConfigException.At(s.KeyPath("r1"), s.Map["r1"]?.Location, "must be positive");
        if (sl > sh) throw ConfigException.At(s.KeyPath("sl"), s.Map["sl"]?.Location, $"sl ({sl}) must not exceed sh ({sh})");
        return new RandomErasing(epsilon, sl, sh, r1, logAspect, attempt, mode, mean);
    }

    /// <summary>The erased box (x, y, w, h) for an image of that size, or null when nothing is erased.</summary>
    public Rect? Box(int width, int height, Random rng)
    {
        if (rng.NextDouble() > epsilon) return null;
        double lo = logAspect ? Math.Log(r1) : r1, hi = logAspect ? Math.Log(1 / r1) : 1 / r1;
        for (int i = 0; i < attempt; i++)
        {
            double area = rng.Uniform(sl, sh) * width * height;
            double aspect = rng.Uniform(Math.Min(lo, hi), Math.Max(lo, hi));
            if (logAspect) aspect = Math.Exp(aspect);
            int h = (int)Math.Round(Math.Sqrt(area * aspect));
            int w = (int)Math.Round(Math.Sqrt(area / aspect));
            if (w < width && h < height)
            {
                int y = rng.RandInt(0, height - h);
                int x = rng.RandInt(0, width - w);
                return new Rect(x, y, w, h);
            }
        }
        return null;
    }

    public unsafe void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        if (Box(image.Width, image.Height, rng) is not { } box) return;
        int channels = image.Channels();
        var fill = new double[channels];
        for (int c = 0; c < channels; c++) fill[c] = mode == "rand" ? rng.Normal() : mean[Math.Min(c, 2)];
        bool isFloat = image.Depth() == MatType.CV_32F;
        if (!isFloat && image.Depth() != MatType.CV_8U) throw new InvalidOperationException("RandomErasing expects uint8 or float32 pixels");
        for (int y = box.Y; y < box.Bottom; y++)
        {
            byte* row = (byte*)image.Ptr(y);
            for (int x = box.X; x < box.Right; x++)
                for (int c = 0; c < channels; c++)
                {
                    double v = mode == "pixel" ? rng.Normal() : fill[c];
                    int i = x * channels + c;
                    if (isFloat) ((float*)row)[i] = (float)v;
                    else row[i] = (byte)Math.Clamp((int)v, 0, 255);
                }
        }
    }
}
