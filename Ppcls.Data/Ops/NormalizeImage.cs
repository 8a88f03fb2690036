using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// `NormalizeImage`: (x * scale - mean) / std per channel, float32 out. `scale` accepts
/// `1.0/255.0`. `order` ('chw', 'hwc' or '') only says how PaddleClas shapes mean/std; images stay
/// HWC in memory here, so channels are matched either way. As the last op it is fused into the
/// batch writer (uint8 pixels normalised straight into the batch buffer).
/// </summary>
public sealed class NormalizeImage(double scale, double[] mean, double[] std) : IImageOp
{
    public string Name => "NormalizeImage";
    public double Scale { get; } = scale;
    public double[] Mean { get; } = mean;
    public double[] Std { get; } = std;

    public static NormalizeImage Create(ConfigSection s)
    {
        double scale = s.Double("scale", 1.0 / 255.0);
        var mean = OpOptions.Triple(s, "mean", [0.485, 0.456, 0.406]);
        var std = OpOptions.Triple(s, "std", [0.229, 0.224, 0.225]);
        s.Choice("order", "chw", "chw", "hwc", "");
        if (s.Bool("output_fp16", false))
            throw ConfigException.At(s.KeyPath("output_fp16"), s.Map["output_fp16"]?.Location, "float16 output is not supported; batches are float32 (remove the key)");
        if (s.Int("channel_num", 3) != 3)
            throw ConfigException.At(s.KeyPath("channel_num"), s.Map["channel_num"]?.Location, "only channel_num: 3 is supported");
        if (std.Any(v => v == 0)) throw ConfigException.At(s.KeyPath("std"), s.Map["std"]?.Location, "std must not be 0");
        return new NormalizeImage(scale, mean, std);
    }

    /// <summary>Per-channel multiplier and offset: y = x * mul + add.</summary>
    public (float[] Mul, float[] Add) Affine() =>
        ([.. Std.Select(sd => (float)(Scale / sd))], [.. Mean.Zip(Std, (m, sd) => (float)(-m / sd))]);

    public unsafe void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
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
        sample.SetImage(result);
    }
}
