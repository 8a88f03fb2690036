using OpenCvSharp;

namespace Ppcls.Data.Imaging;

/// <summary>
/// One sample moving through `transform_ops`: the encoded bytes until DecodeImage, then an
/// OpenCV image. The image stays HWC in memory; <see cref="ChannelFirst"/> records that an op
/// (ToCHWImage, DecodeImage channel_first) asked for CHW, which the batch writer honours
/// (batches are always NCHW).
/// </summary>
public sealed class ImageSample(byte[] encoded, string source) : IDisposable
{
    public byte[]? Encoded { get; set; } = encoded;
    public string Source { get; } = source;
    public Mat? Image { get; private set; }
    public bool ChannelFirst { get; set; }

    /// <summary>Labels ops decided (<see cref="Ops.ILabellingOp"/>), by PaddleClas's sample key; CustomLabelDataset trains on one.</summary>
    public Dictionary<string, long> OpLabels { get; } = [];

    public Mat RequireImage(string op) =>
        Image ?? throw new InvalidOperationException($"{op} needs a decoded image; put DecodeImage first in transform_ops");

    /// <summary>Replaces the image, disposing the previous one (unless it is the same Mat).</summary>
    public void SetImage(Mat next)
    {
        if (!ReferenceEquals(Image, next)) Image?.Dispose();
        Image = next;
    }

    public void Dispose()
    {
        Image?.Dispose();
        Image = null;
    }
}

/// <summary>An image the decoder cannot read; handled by the data set's `on_bad_image` policy.</summary>
public sealed class BadImageException(string message) : Exception(message);
