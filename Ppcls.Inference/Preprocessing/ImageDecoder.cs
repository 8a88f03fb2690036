using OpenCvSharp;

namespace Ppcls.Inference.Preprocessing;

/// <summary>
/// Reading and decoding an image file as PaddleClas does with cv2: HWC uint8, BGR as OpenCV
/// decodes it, or RGB. A file that cannot be read or decoded is an
/// <see cref="UnreadableImageException"/> naming it.
/// </summary>
public static class ImageDecoder
{
    public static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnreadableImageException($"cannot read image {path}: {e.Message}");
        }
    }

    /// <param name="source">The file the bytes came from, for messages.</param>
    public static Mat Decode(byte[] bytes, string source, bool toRgb)
    {
        Mat image;
        try
        {
            image = Cv2.ImDecode(bytes, ImreadModes.Color);
        }
        catch (OpenCVException e)
        {
            throw new UnreadableImageException($"cannot decode image {source}: {e.Message}");
        }
        if (image.Empty())
        {
            image.Dispose();
            throw new UnreadableImageException($"cannot decode image {source} ({bytes.Length} bytes): not a readable JPEG/PNG/BMP/WebP file");
        }
        if (toRgb) Cv2.CvtColor(image, image, ColorConversionCodes.BGR2RGB);
        return image;
    }
}
