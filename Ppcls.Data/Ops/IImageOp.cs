using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>A per-sample op from `transform_ops` on an OpenCV image; <paramref name="rng"/> is the sample's own generator.</summary>
public interface IImageOp
{
    /// <summary>The PaddleClas op name, e.g. `RandCropImage`.</summary>
    string Name { get; }

    void Apply(ImageSample sample, Random rng);
}
