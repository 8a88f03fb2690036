using OpenCvSharp;

namespace Ppcls.Inference.Preprocessing;

/// <summary>
/// `ResizeImage`: to a fixed <see cref="Size"/> (width, height), or with <see cref="ResizeShort"/>
/// so the short side has that length (the long side scales by the same factor, rounded half to
/// even as Python's round does). ResizeShort wins when both are given.
/// </summary>
public sealed record ResizeOp : IPreprocessOp
{
    public ResizeOp(Size? size, int? resizeShort, InterpolationFlags interpolation)
    {
        if (size is null && resizeShort is null) throw new ArgumentException("ResizeImage needs a size or a resize_short");
        Size = size;
        ResizeShort = resizeShort;
        Interpolation = interpolation;
    }

    public Size? Size { get; }
    public int? ResizeShort { get; }
    public InterpolationFlags Interpolation { get; }

    public static Size TargetSize(int width, int height, Size? size, int? resizeShort)
    {
        if (resizeShort is { } r)
        {
            double percent = (double)r / Math.Min(width, height);
            return new Size((int)Math.Round(width * percent), (int)Math.Round(height * percent));
        }
        return size!.Value;
    }

    public static Mat Resize(Mat src, Size size, InterpolationFlags flags)
    {
        var dst = new Mat();
        Cv2.Resize(src, dst, size, 0, 0, flags);
        return dst;
    }

    public Mat Apply(Mat image, string source) => Resize(image, TargetSize(image.Width, image.Height, Size, ResizeShort), Interpolation);
}
