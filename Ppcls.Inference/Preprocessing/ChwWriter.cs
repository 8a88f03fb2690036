using OpenCvSharp;

namespace Ppcls.Inference.Preprocessing;

/// <summary>
/// Writes an HWC image as CHW float32 planes with a per-channel affine (a fused NormalizeImage)
/// and, optionally, the red and blue planes swapped (a to-RGB decode left to the writer, which
/// costs nothing here). Shared by the training batch writer and the deploy preprocessor.
/// </summary>
public static class ChwWriter
{
    /// <summary>The affine of a chain without a fused NormalizeImage: pixel values as they are.</summary>
    public static (float[] Mul, float[] Add) Identity() => ([1f, 1f, 1f], [0f, 0f, 0f]);

    /// <summary>
    /// The index of the last NormalizeImage when only ToCHWImage ops follow it (the writer can
    /// apply it, with no float image in between), else -1.
    /// </summary>
    public static int FusableNormalize<T>(IReadOnlyList<T> ops, Func<T, bool> isNormalize, Func<T, bool> isToChw)
    {
        for (int i = ops.Count - 1; i >= 0; i--)
        {
            if (isNormalize(ops[i])) return i;
            if (!isToChw(ops[i])) return -1;
        }
        return -1;
    }

    /// <summary>
    /// OpenCV splits the channels and converts each (SIMD) straight into its plane of
    /// <paramref name="destination"/>: y = x * mul[c] + add[c].
    /// </summary>
    public static unsafe void Write(Mat image, Span<float> destination, float[] mul, float[] add, bool swapRedBlue, string source)
    {
        int channels = image.Channels(), height = image.Height, width = image.Width, plane = height * width;
        if (destination.Length != channels * plane)
            throw new UserInputException($"{source}: image is {width}x{height}x{channels} after transform_ops but the batch holds {destination.Length} values per image; all images in a batch must have one size (end the ops with a fixed-size crop or resize)");
        if (channels > 3) throw new UserInputException($"{source}: {channels} channels are not supported");
        int depth = image.Depth();
        if (depth != MatType.CV_8U && depth != MatType.CV_32F) throw new UserInputException($"{source}: unsupported pixel type {image.Type()}");
        var planes = channels == 1 ? [image] : Cv2.Split(image);
        try
        {
            fixed (float* dst = destination)
            {
                for (int c = 0; c < channels; c++)
                {
                    using var target = Mat.FromPixelData(height, width, MatType.CV_32FC1, (IntPtr)(dst + c * plane));
                    var from = swapRedBlue && channels == 3 ? planes[2 - c] : planes[c];
                    from.ConvertTo(target, MatType.CV_32F, mul[c], add[c]);
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
