using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// `Pad` (PaddleClas operators.py): `padding` pixels of the constant `fill` (0 by default) on every
/// side, as its cv2 backend's copyMakeBorder and its PIL backend's ImageOps.expand both do.
/// PaddleClas ignores `padding_mode` in both backends; so does Ppcls, with a notice when it is not constant.
/// </summary>
public sealed class Pad(int padding, int fill) : IGeometricOp
{
    public string Name => "Pad";

    public static Pad Create(ConfigSection s, Action<string> notice)
    {
        int padding = s.RequiredInt("padding", "10");
        if (padding < 0) throw ConfigException.At(s.KeyPath("padding"), s.Raw("padding")?.Location, $"must be a non-negative number of pixels, got {padding}");
        int fill = OpOptions.PixelValue(s, "fill", 0);
        string mode = s.String("padding_mode", "constant");
        if (mode != "constant")
            notice($"{s.KeyPath("padding_mode")}: '{mode}' is ignored by PaddleClas's Pad (it always pads with the constant fill); Ppcls does the same");
        s.Choice("backend", "pil", "pil", "cv2");
        OpOptions.RequireAllKeysKnown(s, notice);
        return new Pad(padding, fill);
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        if (padding == 0) return;
        var padded = new Mat();
        Cv2.CopyMakeBorder(image, padded, padding, padding, padding, padding, BorderTypes.Constant, new Scalar(fill, fill, fill));
        sample.SetImage(padded);
    }
}
