using OpenCvSharp;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// `RandomRot90` (PULC image_orientation): turns the image counter-clockwise by 0, 90, 180 or 270
/// degrees, each with probability 1/4 (numpy's `rot90(img, k)`), and sets the label
/// `random_rot90_orientation` to k.
/// </summary>
public sealed class RandomRot90 : IGeometricOp, ILabellingOp
{
    public const string Key = "random_rot90_orientation";

    public string Name => "RandomRot90";
    public string LabelKey => Key;
    public int LabelCount => 4;

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        int k = rng.RandInt(0, 3);
        if (k > 0)
        {
            var turned = new Mat();
            Cv2.Rotate(image, turned, k switch { 1 => RotateFlags.Rotate90Counterclockwise, 2 => RotateFlags.Rotate180, _ => RotateFlags.Rotate90Clockwise });
            sample.SetImage(turned);
        }
        sample.OpLabels[Key] = k;
    }
}
