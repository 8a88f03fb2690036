using OpenCvSharp;

namespace Ppcls.Data.Ops;

/// <summary>
/// An op whose output size is one of its options (RandCropImage, ResizeImage, CropImage):
/// MultiScaleDataset sets that size per batch, as PaddleClas does. The op keeps its other options
/// (PaddleClas rebuilds it from the size alone, so e.g. an `interpolation` there falls back to the
/// default; the shipped PP-LCNetV2 recipes set only `size`, so both agree on them).
/// </summary>
public interface ISizedOp : IImageOp
{
    /// <summary>The same op with output size <paramref name="size"/> (width, height); its other options are kept.</summary>
    IImageOp WithSize(Size size);

    /// <summary>
    /// The output width x height and the key that sets it; not <paramref name="Exact"/> for
    /// ResizeImage's `resize_short`, whose output is at least that side squared.
    /// </summary>
    (Size Size, string Key, bool Exact) OutputSize { get; }
}
