using OpenCvSharp;

namespace Ppcls.Inference.Preprocessing;

/// <summary>`CropImage`: the centre <see cref="Size"/> (width, height) box, offsets floor((W - w) / 2), floor((H - h) / 2).</summary>
public sealed record CropOp(Size Size) : IPreprocessOp
{
    public static Rect Box(int width, int height, Size size) =>
        new((width - size.Width) / 2, (height - size.Height) / 2, size.Width, size.Height);

    public Mat Apply(Mat image, string source)
    {
        if (image.Width < Size.Width || image.Height < Size.Height)
            throw new UserInputException(
                $"{source}: CropImage size {Size.Width}x{Size.Height} is larger than the image ({image.Width}x{image.Height}); resize first (ResizeImage resize_short)");
        // A view into the same pixels (OpenCV counts the references): no copy.
        return new Mat(image, Box(image.Width, image.Height, Size));
    }
}
