using OpenCvSharp;

namespace Ppcls.Data.Ops.Augment;

/// <summary>
/// The PIL image operations the auto-augment policies are defined with, on 3-channel uint8
/// OpenCV images treated as RGB (as PIL's Image.fromarray does): affine warps with a fill colour,
/// ImageOps (autocontrast, equalize, invert, solarize, posterize) and ImageEnhance
/// (color, contrast, brightness, sharpness) with PIL's formulas. Each returns a new Mat.
/// </summary>
public static class PilOps
{
    /// <summary>
    /// PIL's `transform(size, AFFINE, (a, b, c, d, e, f))`: output (x, y) samples input
    /// (a x + b y + c, d x + e y + f); uncovered pixels get <paramref name="fill"/>.
    /// </summary>
    public static Mat Affine(Mat src, double a, double b, double c, double d, double e, double f, InterpolationFlags interpolation, Scalar fill)
    {
        using var m = new Mat(2, 3, MatType.CV_64FC1);
        m.Set(0, 0, a); m.Set(0, 1, b); m.Set(0, 2, c);
        m.Set(1, 0, d); m.Set(1, 1, e); m.Set(1, 2, f);
        var dst = new Mat();
        Cv2.WarpAffine(src, dst, m, src.Size(), interpolation | InterpolationFlags.WarpInverseMap, BorderTypes.Constant, fill);
        return dst;
    }

    /// <summary>PIL's `rotate(degrees)`: counter-clockwise about the centre, same size, <paramref name="fill"/> outside.</summary>
    public static Mat Rotate(Mat src, double degrees, InterpolationFlags interpolation, Scalar fill)
    {
        using var m = Cv2.GetRotationMatrix2D(new Point2f((src.Width - 1) / 2f, (src.Height - 1) / 2f), degrees, 1.0);
        var dst = new Mat();
        Cv2.WarpAffine(src, dst, m, src.Size(), interpolation, BorderTypes.Constant, fill);
        return dst;
    }

    static Mat Lut(Mat src, Func<int, byte[]> perChannel)
    {
        var channels = src.Split();
        try
        {
            for (int c = 0; c < channels.Length; c++)
            {
                using var table = Mat.FromPixelData(1, 256, MatType.CV_8UC1, perChannel(c));
                Cv2.LUT(channels[c], table, channels[c]);
            }
            var dst = new Mat();
            Cv2.Merge(channels, dst);
            return dst;
        }
        finally
        {
            foreach (var ch in channels) ch.Dispose();
        }
    }

    static byte[] Table(Func<int, int> f)
    {
        var t = new byte[256];
        for (int i = 0; i < 256; i++) t[i] = (byte)Math.Clamp(f(i), 0, 255);
        return t;
    }

    public static Mat Invert(Mat src) => Lut(src, _ => Table(i => 255 - i));
    public static Mat Solarize(Mat src, double threshold) => Lut(src, _ => Table(i => i < threshold ? i : 255 - i));
    public static Mat SolarizeAdd(Mat src, int add, int threshold = 128) => Lut(src, _ => Table(i => i < threshold ? Math.Min(255, i + add) : i));

    public static Mat Posterize(Mat src, int bits)
    {
        if (bits >= 8) return src.Clone();
        int mask = ~((1 << (8 - Math.Max(0, bits))) - 1);
        return Lut(src, _ => Table(i => i & mask));
    }

    static unsafe int[][] Histograms(Mat src)
    {
        int channels = src.Channels(), rows = src.Rows, cols = src.Cols;
        var h = new int[channels][];
        for (int c = 0; c < channels; c++) h[c] = new int[256];
        for (int y = 0; y < rows; y++)
        {
            byte* row = (byte*)src.Ptr(y);
            for (int x = 0; x < cols; x++)
                for (int c = 0; c < channels; c++)
                    h[c][row[x * channels + c]]++;
        }
        return h;
    }

    /// <summary>ImageOps.autocontrast (cutoff 0): stretch each channel's [min, max] to [0, 255].</summary>
    public static Mat AutoContrast(Mat src)
    {
        var h = Histograms(src);
        return Lut(src, c =>
        {
            int lo = Array.FindIndex(h[c], v => v > 0), hi = Array.FindLastIndex(h[c], v => v > 0);
            if (hi <= lo) return Table(i => i);
            double scale = 255.0 / (hi - lo), offset = -lo * scale;
            return Table(i => (int)(i * scale + offset));
        });
    }

    /// <summary>ImageOps.equalize: PIL's per-channel histogram equalisation.</summary>
    public static Mat Equalize(Mat src)
    {
        var h = Histograms(src);
        return Lut(src, c =>
        {
            var nonZero = h[c].Where(v => v > 0).ToList();
            if (nonZero.Count <= 1) return Table(i => i);
            int step = (nonZero.Sum() - nonZero[^1]) / 255;
            if (step == 0) return Table(i => i);
            var t = new byte[256];
            int n = step / 2;
            for (int i = 0; i < 256; i++)
            {
                t[i] = (byte)Math.Min(255, n / step);
                n += h[c][i];
            }
            return t;
        });
    }

    /// <summary>PIL's L conversion: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16.</summary>
    static unsafe Mat Gray(Mat src)
    {
        int rows = src.Rows, cols = src.Cols;
        var gray = new Mat(rows, cols, MatType.CV_8UC1);
        for (int y = 0; y < rows; y++)
        {
            byte* p = (byte*)src.Ptr(y), g = (byte*)gray.Ptr(y);
            for (int x = 0; x < cols; x++, p += 3)
                g[x] = (byte)((p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16);
        }
        return gray;
    }

    /// <summary>Image.blend(degenerate, image, factor) = degenerate + factor * (image - degenerate), truncated to 0..255.</summary>
    static unsafe Mat Blend(Mat degenerate, Mat image, double factor)
    {
        var dst = new Mat(image.Size(), image.Type());
        int rows = image.Rows, values = image.Cols * image.Channels();
        for (int y = 0; y < rows; y++)
        {
            byte* a = (byte*)degenerate.Ptr(y), b = (byte*)image.Ptr(y), o = (byte*)dst.Ptr(y);
            for (int i = 0; i < values; i++)
            {
                double v = a[i] + factor * (b[i] - a[i]);
                o[i] = v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)v;
            }
        }
        return dst;
    }

    public static Mat Color(Mat src, double factor)
    {
        using var gray = Gray(src);
        using var degenerate = new Mat();
        Cv2.Merge([gray, gray, gray], degenerate);
        return Blend(degenerate, src, factor);
    }

    public static Mat Contrast(Mat src, double factor)
    {
        using var gray = Gray(src);
        int mean = (int)(Cv2.Mean(gray).Val0 + 0.5);
        using var degenerate = new Mat(src.Size(), src.Type(), new Scalar(mean, mean, mean));
        return Blend(degenerate, src, factor);
    }

    public static Mat Brightness(Mat src, double factor)
    {
        using var degenerate = new Mat(src.Size(), src.Type(), Scalar.All(0));
        return Blend(degenerate, src, factor);
    }

    /// <summary>ImageEnhance.Sharpness: blend with PIL's SMOOTH filter (3x3, centre 5, /13), border pixels unfiltered.</summary>
    public static Mat Sharpness(Mat src, double factor)
    {
        using var kernel = Mat.FromPixelData(3, 3, MatType.CV_32FC1, new float[] { 1, 1, 1, 1, 5, 1, 1, 1, 1 });
        using var scaled = new Mat();
        kernel.ConvertTo(scaled, MatType.CV_32FC1, 1.0 / 13);
        using var smooth = src.Clone();
        if (src.Width > 2 && src.Height > 2)
        {
            using var filtered = new Mat();
            Cv2.Filter2D(src, filtered, -1, scaled, borderType: BorderTypes.Replicate);
            using var inner = new Mat(filtered, new Rect(1, 1, src.Width - 2, src.Height - 2));
            using var target = new Mat(smooth, new Rect(1, 1, src.Width - 2, src.Height - 2));
            inner.CopyTo(target);
        }
        return Blend(smooth, src, factor);
    }
}
