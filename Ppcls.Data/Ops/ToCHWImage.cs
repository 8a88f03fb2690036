using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>`ToCHWImage`: marks the sample CHW. Batches are NCHW whatever the ops say, so this only records the layout.</summary>
public sealed class ToCHWImage : IGeometricOp
{
    public string Name => "ToCHWImage";

    public void Apply(ImageSample sample, Random rng)
    {
        sample.RequireImage(Name);
        sample.ChannelFirst = true;
    }
}
