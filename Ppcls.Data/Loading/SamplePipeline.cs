using OpenCvSharp;
using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Ops;

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
        int normalize = chain.FindLastIndex(op => op is NormalizeImage);
        if (normalize > 0 && chain.Skip(normalize + 1).All(op => op is ToCHWImage))
        {
            (_mul, _add) = ((NormalizeImage)chain[normalize]).Affine();
            chain.RemoveAt(normalize);
        }
        else (_mul, _add) = ([1f, 1f, 1f], [0f, 0f, 0f]);

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

    /// <summary>
    /// Writes an HWC image as CHW floats, applying the fused normalisation: OpenCV splits the
    /// channels and converts each (SIMD) straight into its plane of <paramref name="destination"/>.
    /// </summary>
    public unsafe void WriteChw(Mat image, Span<float> destination, string source)
    {
        int channels = image.Channels(), height = image.Height, width = image.Width, plane = height * width;
        if (destination.Length != channels * plane)
            throw new PpclsUserException($"{source}: image is {width}x{height}x{channels} after transform_ops but the batch holds {destination.Length} values per image; all images in a batch must have one size (end the ops with a fixed-size crop or resize)");
        if (channels > 3) throw new PpclsUserException($"{source}: {channels} channels are not supported");
        int depth = image.Depth();
        if (depth != MatType.CV_8U && depth != MatType.CV_32F) throw new PpclsUserException($"{source}: unsupported pixel type {image.Type()}");
        var planes = channels == 1 ? [image] : Cv2.Split(image);
        try
        {
            fixed (float* dst = destination)
            {
                for (int c = 0; c < channels; c++)
                {
                    using var target = Mat.FromPixelData(height, width, MatType.CV_32FC1, (IntPtr)(dst + c * plane));
                    var from = _swapRedBlue && channels == 3 ? planes[2 - c] : planes[c];
                    from.ConvertTo(target, MatType.CV_32F, _mul[c], _add[c]);
                    if (target.Data != (IntPtr)(dst + c * plane)) throw new InvalidOperationException("OpenCV reallocated the batch plane");
                }
            }
        }
        finally
        {
            if (channels > 1) foreach (var p in planes) p.Dispose();
        }
    }
}

