using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops;

/// <summary>
/// `BlurImage` (PULC clarity_assessment): with probability `ratio` blurs the image and sets the
/// label `blur_image` to 1, else leaves it sharp with label 0. The blur is, with equal chance,
/// a Gaussian with odd kernel sides drawn from 5 .. `gaussian_max_ksize`-1 (cv2's sigma from the
/// size), or a motion blur: a diagonal line kernel of odd length from 5 .. `motion_max_ksize`-1,
/// turned by a whole angle in [-`motion_max_angle`, `motion_max_angle`), divided by its length,
/// filtered over the uint8 image and then stretched to 0 .. 255 (NORM_MINMAX), as PaddleClas does.
/// </summary>
public sealed class BlurImage(double ratio, int motionMaxKsize, int motionMaxAngle, int gaussianMaxKsize) : ILabellingOp
{
    public const string Key = "blur_image";

    public string Name => "BlurImage";
    public string LabelKey => Key;
    public int LabelCount => 2;

    public static BlurImage Create(ConfigSection s)
    {
        double ratio = s.Double("ratio", 0.5);
        int motion = KernelBound(s, "motion_max_ksize", 12);
        int angle = s.Int("motion_max_angle", 45);
        int gaussian = KernelBound(s, "gaussian_max_ksize", 12);
        if (ratio is < 0 or > 1) throw ConfigException.At(s.KeyPath("ratio"), s.Map["ratio"]?.Location, $"must be within 0 .. 1, got {ratio}");
        if (angle < 1) throw ConfigException.At(s.KeyPath("motion_max_angle"), s.Map["motion_max_angle"]?.Location, $"must be at least 1, got {angle}");
        return new BlurImage(ratio, motion, angle, gaussian);
    }

    static int KernelBound(ConfigSection s, string key, int fallback)
    {
        int v = s.Int(key, fallback);
        return v > 5 ? v : throw ConfigException.At(s.KeyPath(key), s.Map[key]?.Location, $"must be above 5 (kernel sides are drawn from 5, 7, ... below it), got {v}");
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        if (rng.NextDouble() > ratio)
        {
            sample.OpLabels[Key] = 0;
            return;
        }
        sample.SetImage(rng.Next(2) == 0
            ? Gaussian(image, OddSide(rng, gaussianMaxKsize), OddSide(rng, gaussianMaxKsize))
            : Motion(image, OddSide(rng, motionMaxKsize), rng.Next(-motionMaxAngle, motionMaxAngle)));
        sample.OpLabels[Key] = 1;
    }

    /// <summary>numpy's choice(arange(5, max, 2)).</summary>
    static int OddSide(Random rng, int max) => 5 + 2 * rng.Next((max - 5 + 1) / 2);

    public static Mat Gaussian(Mat image, int width, int height)
    {
        var blurred = new Mat();
        Cv2.GaussianBlur(image, blurred, new Size(width, height), 0);
        return blurred;
    }

    /// <summary>The motion blur of a <paramref name="degree"/>-long line turned by <paramref name="angle"/> degrees.</summary>
    public static Mat Motion(Mat image, int degree, double angle)
    {
        using var kernel = MotionKernel(degree, angle);
        var blurred = new Mat();
        Cv2.Filter2D(image, blurred, -1, kernel);
        Cv2.Normalize(blurred, blurred, 0, 255, NormTypes.MinMax);
        return blurred;
    }

    /// <summary>The identity diagonal, turned about (degree/2, degree/2) with bilinear warping, divided by degree (float64).</summary>
    public static Mat MotionKernel(int degree, double angle)
    {
        using var diagonal = Mat.Eye(degree, degree, MatType.CV_64FC1).ToMat();
        using var turn = Cv2.GetRotationMatrix2D(new Point2f(degree / 2f, degree / 2f), angle, 1);
        var kernel = new Mat();
        Cv2.WarpAffine(diagonal, kernel, turn, new Size(degree, degree));
        kernel.ConvertTo(kernel, MatType.CV_64FC1, 1.0 / degree);
        return kernel;
    }
}
