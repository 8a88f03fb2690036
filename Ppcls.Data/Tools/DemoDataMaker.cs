using Ppcls.Core.IO;
using System.Text;
using OpenCvSharp;
using Ppcls.Core;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Tools;

/// <summary>
/// `ppcls dataset make-demo`: a small, deterministic, learnable data set. Class c draws shape
/// c mod 10 in colour (c + c / 10) mod 10 (so up to 100 classes are distinct pairs) at a random
/// position, size and rotation on a noisy background, with colour jitter and pixel noise.
/// Writes DIR/images/*.jpg plus train_list.txt, val_list.txt (`images/x.jpg label`) and
/// label_list.txt (`id name`); the last 20% of each class (at least one) form the val split.
/// </summary>
public static class DemoDataMaker
{
    public const int MaxClasses = 100;
    public const double ValFraction = 0.2;

    static readonly string[] Shapes = ["circle", "square", "triangle", "cross", "ring", "star", "stripes", "checker", "ellipse", "chevron"];

    static readonly (string Name, Scalar Bgr)[] Colours =
    [
        ("red", new Scalar(40, 40, 220)), ("green", new Scalar(40, 200, 40)), ("blue", new Scalar(220, 60, 30)),
        ("yellow", new Scalar(30, 220, 230)), ("magenta", new Scalar(210, 40, 210)), ("cyan", new Scalar(220, 210, 40)),
        ("orange", new Scalar(20, 140, 250)), ("white", new Scalar(240, 240, 240)), ("purple", new Scalar(150, 30, 110)),
        ("brown", new Scalar(30, 80, 140)),
    ];

    public sealed record Result(int Classes, int Train, int Val, string ImagesFolder);

    public static string ClassName(int c) => $"{Colours[(c + c / 10) % 10].Name}_{Shapes[c % 10]}";

    public static Result Make(string dir, int classes, int perClass, int size, long seed)
    {
        if (classes is < 2 or > MaxClasses) throw new PpclsUserException($"--classes must be 2..{MaxClasses}, got {classes}");
        if (perClass < 2) throw new PpclsUserException($"--per-class must be at least 2 (one for val), got {perClass}");
        if (size is < 16 or > 1024) throw new PpclsUserException($"--size must be 16..1024, got {size}");
        string images = Path.Combine(dir, "images");
        try
        {
            Directory.CreateDirectory(images);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PpclsUserException($"dataset make-demo: cannot create '{images}': {e.Message}");
        }

        var train = new StringBuilder();
        var val = new StringBuilder();
        var labels = new StringBuilder();
        int nVal = Math.Max(1, (int)Math.Round(perClass * ValFraction));
        for (int c = 0; c < classes; c++)
        {
            string name = ClassName(c);
            labels.Append($"{c} {name}\n");
            for (int i = 0; i < perClass; i++)
            {
                string file = $"{name}_{i:D4}.jpg";
                var rng = SampleRandom.For(seed, 0xDE30, c, i);
                using var image = Draw(c, size, rng);
                Cv2.ImEncode(".jpg", image, out byte[] jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 95));
                AtomicFile.WriteAllBytes(Path.Combine(images, file), jpeg);
                (i >= perClass - nVal ? val : train).Append($"images/{file} {c}\n");
            }
        }
        AtomicFile.WriteAllText(Path.Combine(dir, "train_list.txt"), train.ToString());
        AtomicFile.WriteAllText(Path.Combine(dir, "val_list.txt"), val.ToString());
        AtomicFile.WriteAllText(Path.Combine(dir, "label_list.txt"), labels.ToString());
        return new Result(classes, classes * (perClass - nVal), classes * nVal, images);
    }

    /// <summary>One image of class <paramref name="c"/> (BGR, size x size).</summary>
    public static Mat Draw(int c, int size, Random rng)
    {
        int bg = rng.Next(20, 90);
        var image = new Mat(size, size, MatType.CV_8UC3, new Scalar(bg + rng.Next(-15, 16), bg + rng.Next(-15, 16), bg + rng.Next(-15, 16)));
        var baseColour = Colours[(c + c / 10) % 10].Bgr;
        var colour = new Scalar(Jitter(baseColour.Val0, rng), Jitter(baseColour.Val1, rng), Jitter(baseColour.Val2, rng));
        double r = size * rng.Uniform(0.22, 0.38);
        var centre = new Point2d(rng.Uniform(r, size - r), rng.Uniform(r, size - r));
        double angle = rng.Uniform(0, 2 * Math.PI);
        int thick = Math.Max(2, (int)(r / 3));
        Point At(double x, double y) => new(
            (int)Math.Round(centre.X + x * Math.Cos(angle) - y * Math.Sin(angle)),
            (int)Math.Round(centre.Y + x * Math.Sin(angle) + y * Math.Cos(angle)));
        void Poly(params (double X, double Y)[] p) => Cv2.FillPoly(image, [p.Select(q => At(q.X * r, q.Y * r)).ToArray()], colour, LineTypes.AntiAlias);

        switch (Shapes[c % 10])
        {
            case "circle":
                Cv2.Circle(image, At(0, 0), (int)r, colour, -1, LineTypes.AntiAlias);
                break;
            case "square":
                Poly((-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8));
                break;
            case "triangle":
                Poly((0, -1), (0.87, 0.5), (-0.87, 0.5));
                break;
            case "cross":
                Cv2.Line(image, At(-r, 0), At(r, 0), colour, thick, LineTypes.AntiAlias);
                Cv2.Line(image, At(0, -r), At(0, r), colour, thick, LineTypes.AntiAlias);
                break;
            case "ring":
                Cv2.Circle(image, At(0, 0), (int)(r * 0.8), colour, thick, LineTypes.AntiAlias);
                break;
            case "star":
                Poly([.. Enumerable.Range(0, 10).Select(k => (Math.Cos(k * Math.PI / 5) * (k % 2 == 0 ? 1 : 0.4), Math.Sin(k * Math.PI / 5) * (k % 2 == 0 ? 1 : 0.4)))]);
                break;
            case "stripes":
                for (int k = -1; k <= 1; k++)
                    Cv2.Line(image, At(-r, k * r * 0.6), At(r, k * r * 0.6), colour, Math.Max(1, thick / 2), LineTypes.AntiAlias);
                break;
            case "checker":
                for (int gy = 0; gy < 3; gy++)
                    for (int gx = 0; gx < 3; gx++)
                        if ((gx + gy) % 2 == 0)
                        {
                            double x0 = -1 + gx * 2.0 / 3, y0 = -1 + gy * 2.0 / 3, d = 2.0 / 3;
                            Poly((x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0, y0 + d));
                        }
                break;
            case "ellipse":
                Cv2.Ellipse(image, At(0, 0), new Size(r, r * 0.4), angle * 180 / Math.PI, 0, 360, colour, -1, LineTypes.AntiAlias);
                break;
            default:
                Cv2.Polylines(image, [[At(-r, -r * 0.6), At(0, r * 0.6), At(r, -r * 0.6)]], false, colour, thick, LineTypes.AntiAlias);
                break;
        }
        // Pixel noise from the image's own generator (OpenCV's global RNG would not be deterministic across threads).
        return AddNoise(image, rng);
    }

    static double Jitter(double v, Random rng) => Math.Clamp(v + rng.Next(-20, 21), 0, 255);

    static unsafe Mat AddNoise(Mat image, Random rng)
    {
        int rows = image.Rows, values = image.Cols * image.Channels();
        for (int y = 0; y < rows; y++)
        {
            byte* row = (byte*)image.Ptr(y);
            for (int x = 0; x < values; x++)
                row[x] = (byte)Math.Clamp(row[x] + (int)Math.Round(rng.Normal() * 8), 0, 255);
        }
        return image;
    }
}
