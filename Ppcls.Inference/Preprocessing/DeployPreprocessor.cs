using OpenCvSharp;

namespace Ppcls.Inference.Preprocessing;

/// <summary>
/// A deploy `PreProcess.transform_ops` list as PaddleClas's predictor runs it: each file decoded
/// (to RGB unless the list says otherwise), the ops in order, then CHW float32. A NormalizeImage
/// followed only by ToCHWImage is applied while writing the planes and, with no other
/// per-channel op left, the RGB swap too, exactly as the training pipeline does: the numbers
/// equal `ppcls infer`'s.
/// </summary>
public sealed class DeployPreprocessor : IImagePreprocessor
{
    readonly IPreprocessOp[] _ops;
    readonly float[] _mul;
    readonly float[] _add;
    readonly bool _decodeToRgb;
    readonly bool _swapRedBlue;

    public DeployPreprocessor(IReadOnlyList<IPreprocessOp> ops, bool toRgb = true)
    {
        var chain = ops.ToList();
        int normalize = ChwWriter.FusableNormalize(chain, op => op is NormalizeOp, op => op is ToChwOp);
        if (normalize >= 0)
        {
            (_mul, _add) = ((NormalizeOp)chain[normalize]).Affine();
            chain.RemoveAt(normalize);
        }
        else (_mul, _add) = ChwWriter.Identity();
        // Resize and crop treat the channels alike, so the swap can wait for the writer.
        _swapRedBlue = toRgb && !chain.OfType<NormalizeOp>().Any();
        _decodeToRgb = toRgb && !_swapRedBlue;
        _ops = [.. chain];
    }

    public (float[] Chw, int C, int H, int W) Load(string path) => Load(ImageDecoder.ReadFile(path), path);

    /// <summary>An encoded image (JPEG, PNG, BMP, WebP bytes) as CHW floats; <paramref name="name"/> names it in messages.</summary>
    public (float[] Chw, int C, int H, int W) Load(byte[] encoded, string name)
    {
        string path = name;
        var image = ImageDecoder.Decode(encoded, path, _decodeToRgb);
        try
        {
            foreach (var op in _ops)
            {
                var next = op.Apply(image, path);
                if (ReferenceEquals(next, image)) continue;
                image.Dispose();
                image = next;
            }
            int c = image.Channels(), h = image.Height, w = image.Width;
            var chw = new float[c * h * w];
            ChwWriter.Write(image, chw, _mul, _add, _swapRedBlue, path);
            return (chw, c, h, w);
        }
        finally
        {
            image.Dispose();
        }
    }
}
