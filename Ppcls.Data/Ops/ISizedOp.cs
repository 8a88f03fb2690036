using OpenCvSharp;

namespace Ppcls.Data.Ops;

/// <summary>
/// An op whose output size is one of its options (RandCropImage, ResizeImage, CropImage):
/// MultiScaleDataset sets that size per batch, as PaddleClas does.
/// </summary>
public interface ISizedOp : IImageOp
{
    /// <summary>The same op with output size <paramref name="size"/> (width, height); its other options are kept.</summary>
    IImageOp WithSize(Size size);
}
