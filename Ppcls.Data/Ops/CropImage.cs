using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Ops;

/// <summary>`CropImage`: the centre `size` ([w, h] or square) box (<see cref="CropOp"/>).</summary>
public sealed class CropImage(CropOp op) : IGeometricOp, ISizedOp, IDeployableOp
{
    public string Name => "CropImage";

    public IImageOp WithSize(Size newSize) => new CropImage(new CropOp(newSize));

    public IPreprocessOp ToDeploy(string keyPath) => op;

    public (Size Size, string Key, bool Exact) OutputSize => (op.Size, "size", true);

    public static CropImage Create(ConfigSection s, Action<string> notice)
    {
        var size = OpOptions.OptionalSize(s, "size");
        OpOptions.RequireAllKeysKnown(s, notice);
        return new CropImage(new CropOp(size ?? throw ConfigException.At(s.KeyPath("size"), s.Location, "required key is missing; add it, e.g. size: 224")));
    }

    public void Apply(ImageSample sample, Random rng) => sample.SetImage(op.Apply(sample.RequireImage(Name), sample.Source));
}
