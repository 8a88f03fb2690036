using OpenCvSharp;
using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Ops;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Loading;

/// <summary>
/// A data set's `transform_ops` as one chain from encoded bytes to CHW floats. The last
/// NormalizeImage, when only ToCHWImage follows it, is fused into the writer, so uint8 pixels
/// are normalised straight into the batch buffer without an intermediate float image. When
/// every op after DecodeImage is geometric, DecodeImage keeps OpenCV's BGR order and the
/// writer swaps the planes, so `to_rgb` costs no pass over the image.
/// </summary>
public sealed class SamplePipeline
{
    readonly IImageOp[] _ops;
    readonly float[] _mul;
    readonly float[] _add;
    readonly bool _swapRedBlue;

    public SamplePipeline(IReadOnlyList<IImageOp> ops, string keyPath)
    {
        KeyPath = keyPath;
        if (ops.Count == 0 || ops[0] is not DecodeImage decode)
            throw new ConfigException($"{keyPath}: transform_ops must start with DecodeImage (images are read as bytes)");
        if (ops.Skip(1).OfType<DecodeImage>().Any())
            throw new ConfigException($"{keyPath}: DecodeImage may appear only once, first");

        var chain = ops.ToList();
        int normalize = ChwWriter.FusableNormalize(chain, op => op is NormalizeImage, op => op is ToCHWImage);
        if (normalize > 0)
        {
            (_mul, _add) = ((NormalizeImage)chain[normalize]).Op.Affine();
            chain.RemoveAt(normalize);
        }
        else (_mul, _add) = ChwWriter.Identity();

        _swapRedBlue = decode.ToRgb && chain.Skip(1).All(op => op is IGeometricOp);
        if (_swapRedBlue) chain[0] = new DecodeImage(toRgb: false, decode.ChannelFirst);
        _ops = [.. chain];
    }

    SamplePipeline(IImageOp[] ops, float[] mul, float[] add, bool swapRedBlue, string keyPath)
    {
        _ops = ops;
        _mul = mul;
        _add = add;
        _swapRedBlue = swapRedBlue;
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
        return new SamplePipeline([.. _ops.Select(op => op is ISizedOp sized ? sized.WithSize(size) : op)], _mul, _add, _swapRedBlue, KeyPath);
    }

    /// <summary>
    /// Runs the ops (without a fused NormalizeImage; channels still BGR where the writer swaps
    /// them); the caller disposes the sample.
    /// </summary>
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

    /// <summary>Writes an HWC image as CHW floats, applying the fused normalisation and the deferred RGB swap.</summary>
    public void WriteChw(Mat image, Span<float> destination, string source) =>
        ChwWriter.Write(image, destination, _mul, _add, _swapRedBlue, source);
}
