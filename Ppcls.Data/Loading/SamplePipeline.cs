using OpenCvSharp;
using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Ops;

namespace Ppcls.Data.Loading;

/// <summary>
/// A data set's `transform_ops` as one chain from encoded bytes to CHW floats. A trailing
/// NormalizeImage is fused into the writer, so uint8 pixels are normalised straight into the
/// batch buffer without an intermediate float image.
/// </summary>
public sealed class SamplePipeline
{
    readonly IImageOp[] _ops;
    readonly float[] _mul;
    readonly float[] _add;

    public SamplePipeline(IReadOnlyList<IImageOp> ops, string keyPath)
    {
        KeyPath = keyPath;
        if (ops.Count == 0 || ops[0] is not DecodeImage)
            throw new ConfigException($"{keyPath}: transform_ops must start with DecodeImage (images are read as bytes)");
        if (ops.Skip(1).OfType<DecodeImage>().Any())
            throw new ConfigException($"{keyPath}: DecodeImage may appear only once, first");
        if (ops[^1] is NormalizeImage last)
        {
            _ops = [.. ops.Take(ops.Count - 1)];
            (_mul, _add) = last.Affine();
        }
        else
        {
            _ops = [.. ops];
            (_mul, _add) = ([1f, 1f, 1f], [0f, 0f, 0f]);
        }
    }

    SamplePipeline(IImageOp[] ops, float[] mul, float[] add, string keyPath)
    {
        _ops = ops;
        _mul = mul;
        _add = add;
        KeyPath = keyPath;
    }

    public IReadOnlyList<IImageOp> Ops => _ops;

    /// <summary>The config list the ops come from (`DataLoader.Train.dataset.transform_ops`), for messages.</summary>
    public string KeyPath { get; }

    /// <summary>
    /// The same chain with every RandCropImage, ResizeImage and CropImage producing
    /// <paramref name="size"/> (MultiScaleDataset's per-batch size); a chain without any of them
    /// is a config error.
    /// </summary>
    public SamplePipeline WithSize(Size size)
    {
        if (!_ops.OfType<ISizedOp>().Any())
            throw new ConfigException($"{KeyPath}: MultiScaleDataset sets each batch's image size through RandCropImage, ResizeImage or CropImage; add one of them (e.g. - RandCropImage: {{size: 224}}) after DecodeImage");
        return new SamplePipeline([.. _ops.Select(op => op is ISizedOp sized ? sized.WithSize(size) : op)], _mul, _add, KeyPath);
    }

    /// <summary>Runs the ops (without a fused NormalizeImage); the caller disposes the sample.</summary>
    public ImageSample Run(byte[] encoded, string source, Random rng)
    {
        var sample = new ImageSample(encoded, source);
        try
        {
            foreach (var op in _ops) op.Apply(sample, rng);
            return sample;
        }
        catch
        {
            sample.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One image through the whole chain to CHW floats (inference: `Infer.transforms`, the
    /// predictor); <paramref name="rng"/> feeds any random op.
    /// </summary>
    public (float[] Chw, int C, int H, int W) Process(byte[] encoded, string source, Random rng)
    {
        using var sample = Run(encoded, source, rng);
        var (c, h, w) = Shape(sample.Image!);
        var chw = new float[c * h * w];
        WriteChw(sample.Image!, chw, source);
        return (chw, c, h, w);
    }

    /// <summary>The (channels, height, width) a processed image gives.</summary>
    public static (int C, int H, int W) Shape(Mat image) => (image.Channels(), image.Height, image.Width);

    /// <summary>Writes an HWC image as CHW floats, applying the fused normalisation.</summary>
    public unsafe void WriteChw(Mat image, Span<float> destination, string source)
    {
        int channels = image.Channels(), height = image.Height, width = image.Width, plane = height * width;
        if (destination.Length != channels * plane)
            throw new PpclsUserException($"{source}: image is {width}x{height}x{channels} after transform_ops but the batch holds {destination.Length} values per image; all images in a batch must have one size (end the ops with a fixed-size crop or resize)");
        if (channels > 3) throw new PpclsUserException($"{source}: {channels} channels are not supported");
        int depth = image.Depth();
        fixed (float* dst = destination)
        {
            for (int y = 0; y < height; y++)
            {
                byte* row = (byte*)image.Ptr(y);
                float* rowOut = dst + y * width;
                if (depth == MatType.CV_8U)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        float m = _mul[c], a = _add[c];
                        float* o = rowOut + c * plane;
                        for (int x = 0; x < width; x++) o[x] = row[x * channels + c] * m + a;
                    }
                }
                else if (depth == MatType.CV_32F)
                {
                    float* f = (float*)row;
                    for (int c = 0; c < channels; c++)
                    {
                        float m = _mul[c], a = _add[c];
                        float* o = rowOut + c * plane;
                        for (int x = 0; x < width; x++) o[x] = f[x * channels + c] * m + a;
                    }
                }
                else throw new PpclsUserException($"{source}: unsupported pixel type {image.Type()}");
            }
        }
    }
}
