using OpenCvSharp;

namespace Ppcls.Inference.Preprocessing;

/// <summary>
/// `NormalizeImage`: (x * scale - mean) / std per channel, float32 out, computed as
/// x * (scale / std) + (-mean / std) in float32. Images are HWC in memory, so PaddleClas's
/// `order` ('chw' / 'hwc') changes nothing here. As the last op before ToCHWImage it is applied
/// by <see cref="ChwWriter"/> while writing the planes instead.
/// </summary>
public sealed class NormalizeOp : IPreprocessOp
{
    public NormalizeOp(double scale, double[] mean, double[] std)
    {
        if (mean.Length != 3 || std.Length != 3) throw new ArgumentException("NormalizeImage needs 3 means and 3 stds (one per channel)");
        if (std.Any(v => v == 0)) throw new ArgumentException("NormalizeImage: std must not be 0");
        Scale = scale;
        Mean = mean;
        Std = std;
    }

    public double Scale { get; }
    public double[] Mean { get; }
    public double[] Std { get; }

    /// <summary>Per-channel multiplier and offset: y = x * mul + add.</summary>
    public (float[] Mul, float[] Add) Affine() =>
        ([.. Std.Select(sd => (float)(Scale / sd))], [.. Mean.Zip(Std, (m, sd) => (float)(-m / sd))]);

    public unsafe Mat Apply(Mat image, string source)
    {
        var (mul, add) = Affine();
        int rows = image.Rows, cols = image.Cols, channels = image.Channels(), depth = image.Depth();
        if (channels != 3) throw new InvalidOperationException($"NormalizeImage expects 3 channels, got {channels}");
        if (depth != MatType.CV_8U && depth != MatType.CV_32F) throw new InvalidOperationException($"NormalizeImage expects uint8 or float32 pixels, got {image.Type()}");
        float m0 = mul[0], m1 = mul[1], m2 = mul[2], a0 = add[0], a1 = add[1], a2 = add[2];
        var result = new Mat(rows, cols, MatType.CV_32FC3);
        for (int y = 0; y < rows; y++)
        {
            float* o = (float*)result.Ptr(y);
            if (depth == MatType.CV_8U)
            {
                byte* p = (byte*)image.Ptr(y);
                for (int i = 0; i < cols * 3; i += 3)
                {
                    o[i] = p[i] * m0 + a0;
                    o[i + 1] = p[i + 1] * m1 + a1;
                    o[i + 2] = p[i + 2] * m2 + a2;
                }
            }
            else
            {
                float* p = (float*)image.Ptr(y);
                for (int i = 0; i < cols * 3; i += 3)
                {
                    o[i] = p[i] * m0 + a0;
                    o[i + 1] = p[i + 1] * m1 + a1;
                    o[i + 2] = p[i + 2] * m2 + a2;
                }
            }
        }
        return result;
    }
}
