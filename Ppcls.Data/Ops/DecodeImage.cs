using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Inference;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Ops;

/// <summary>
/// `DecodeImage`: bytes -> HWC uint8 image, BGR as cv2 decodes it, RGB with `to_rgb` (default
/// true). `channel_first` marks the sample CHW. `backend: pil` decodes with OpenCV too (same pixels
/// for JPEG/PNG up to decoder rounding).
/// </summary>
public sealed class DecodeImage(bool toRgb, bool channelFirst) : IImageOp
{
    public string Name => "DecodeImage";
    public bool ToRgb { get; } = toRgb;
    public bool ChannelFirst { get; } = channelFirst;

    public static DecodeImage Create(ConfigSection s, Action<string> notice)
    {
        bool toNp = s.Bool("to_np", true);
        if (!toNp) throw ConfigException.At(s.KeyPath("to_np"), s.Map["to_np"]?.Location, "only to_np: True is supported (images are arrays)");
        if (s.Choice("backend", "cv2", "cv2", "pil") == "pil") notice($"{s.KeyPath("backend")}: pil decodes with OpenCV in Ppcls");
        return new DecodeImage(s.Bool("to_rgb", true), s.Bool("channel_first", false));
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var bytes = sample.Encoded ?? throw new InvalidOperationException("DecodeImage must come first in transform_ops and appear once");
        // OpenCV rejects an empty buffer with a bare "Empty span" argument error: say what is wrong with the file.
        if (bytes.Length == 0)
            throw new BadImageException($"cannot decode image {sample.Source}: the file is empty (0 bytes); replace it or remove its line from the list");
        Mat image;
        try
        {
            image = ImageDecoder.Decode(bytes, sample.Source, ToRgb);
        }
        catch (UnreadableImageException e)
        {
            throw new BadImageException(e.Message);
        }
        sample.Encoded = null;
        sample.SetImage(image);
        sample.ChannelFirst = ChannelFirst;
    }
}
