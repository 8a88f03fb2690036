using Ppcls.Core.Data;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>A per-sample op on an OpenCV image; <paramref name="rng"/> is the sample's own generator.</summary>
public interface IImageOp : ITransformOp
{
    void Apply(ImageSample sample, Random rng);
}
