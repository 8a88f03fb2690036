using Ppcls.Data.Imaging;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Ops;

/// <summary>`ToCHWImage`: marks the sample CHW. Batches are NCHW whatever the ops say, so this only records the layout.</summary>
public sealed class ToCHWImage : IGeometricOp, IDeployableOp
{
    public string Name => "ToCHWImage";

    public IPreprocessOp ToDeploy(string keyPath) => new ToChwOp();

    public void Apply(ImageSample sample, Random rng)
    {
        sample.RequireImage(Name);
        sample.ChannelFirst = true;
    }
}
