using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Ops;

namespace Ppcls.Data.Tests;

/// <summary>PP-ShiTuV2's training ops: Pad, RandCropImageV2, RandomRotation.</summary>
public sealed class RecognitionOpTests
{
    static readonly DataRegistry Registry = DataCatalog.CreateRegistry();

    static IImageOp Op(string name, string yaml) =>
        Registry.TransformOps.Get(name, "op")(TestData.Section(yaml, $"op.{name}"), new DataBuildContext(Registry, 10, _ => { }));

    static ImageSample Decoded(Mat bgr)
    {
        var sample = new ImageSample(TestData.Png(bgr), "test.png");
        new DecodeImage(false, false).Apply(sample, new Random(0));
        return sample;
    }

    static Mat Pattern(int width, int height) => TestData.Image(width, height, (x, y, c) => (byte)(x * 11 + y * 3 + c * 40 + 1));

    [Test]
    public void Pad_surrounds_the_image_with_the_fill_value()
    {
        using var image = Pattern(12, 10);
        using var sample = Decoded(image);

        Op("Pad", "padding: 3\nfill: 7\nbackend: cv2\n").Apply(sample, new Random(1));

        var padded = sample.Image!;
        Assert.That((padded.Width, padded.Height), Is.EqualTo((18, 16)));
        Assert.That(TestData.Pixel(padded, 0, 0), Is.EqualTo(new Vec3b(7, 7, 7)));
        Assert.That(TestData.Pixel(padded, 17, 15), Is.EqualTo(new Vec3b(7, 7, 7)));
        Assert.That(TestData.Pixel(padded, 2, 8), Is.EqualTo(new Vec3b(7, 7, 7)));
        Assert.That(TestData.Pixel(padded, 3 + 5, 3 + 4), Is.EqualTo(TestData.Pixel(image, 5, 4)));
    }

    [Test]
    public void RandCropImageV2_takes_an_unresized_crop_whose_corner_can_start_one_past_the_last_full_position()
    {
        using var image = Pattern(14, 12);
        var tops = new HashSet<int>();
        var lefts = new HashSet<int>();
        for (int seed = 0; seed < 300; seed++)
        {
            using var sample = Decoded(image);
            Op("RandCropImageV2", "size: [8, 8]\n").Apply(sample, new Random(seed));
            var crop = sample.Image!;
            // Find the corner by the pattern: value(x, y, 0) = 11 x + 3 y + 1 (mod 256) is unique here.
            var first = TestData.Pixel(crop, 0, 0);
            int left = -1, top = -1;
            for (int y = 0; y < 12 && left < 0; y++)
                for (int x = 0; x < 14; x++)
                    if (TestData.Pixel(image, x, y) == first) { (left, top) = (x, y); break; }
            tops.Add(top);
            lefts.Add(left);
            Assert.That(crop.Width, Is.EqualTo(Math.Min(8, 14 - left)));
            Assert.That(crop.Height, Is.EqualTo(Math.Min(8, 12 - top)));
            Assert.That(TestData.Pixel(crop, crop.Width - 1, crop.Height - 1), Is.EqualTo(TestData.Pixel(image, left + crop.Width - 1, top + crop.Height - 1)));
        }

        Assert.That(tops.Order(), Is.EqualTo(Enumerable.Range(0, 12 - 8 + 2)), "randint(0, h - th + 1) is inclusive");
        Assert.That(lefts.Order(), Is.EqualTo(Enumerable.Range(0, 14 - 8 + 2)));
    }

    [Test]
    public void RandomRotation_turns_counter_clockwise_about_the_centre_with_probability_prob()
    {
        using var image = Pattern(9, 9);
        using var rotated = Decoded(image);
        using var kept = Decoded(image);
        using var expected = new Mat();
        Cv2.Rotate(image, expected, RotateFlags.Rotate90Counterclockwise);

        Op("RandomRotation", "prob: 1.0\ndegrees: [90, 90]\n").Apply(rotated, new Random(3));
        Op("RandomRotation", "prob: 0.0\ndegrees: 90\n").Apply(kept, new Random(3));

        for (int y = 0; y < 9; y++)
            for (int x = 0; x < 9; x++)
            {
                Assert.That(TestData.Pixel(rotated.Image!, x, y), Is.EqualTo(TestData.Pixel(expected, x, y)), $"({x}, {y})");
                Assert.That(TestData.Pixel(kept.Image!, x, y), Is.EqualTo(TestData.Pixel(image, x, y)));
            }
    }

    [Test]
    public void RandomRotation_with_prob_half_rotates_about_half_the_samples()
    {
        using var image = Pattern(9, 9);
        var op = Op("RandomRotation", "prob: 0.5\ndegrees: 90\ninterpolation: bilinear\n");
        int changed = 0;
        for (int seed = 0; seed < 400; seed++)
        {
            using var sample = Decoded(image);
            op.Apply(sample, new Random(seed));
            if (TestData.Pixel(sample.Image!, 1, 1) != TestData.Pixel(image, 1, 1)) changed++;
        }

        Assert.That(changed / 400.0, Is.EqualTo(0.5).Within(0.08));
    }

    [TestCase("RandomRotation", "degrees: 30\nexpand: True\n", "op.RandomRotation.expand", "is not supported in Ppcls")]
    [TestCase("RandomRotation", "degrees: [30, 10]\n", "op.RandomRotation.degrees", "[min, max]")]
    [TestCase("Pad", "padding: -1\n", "op.Pad.padding", "must be a non-negative number of pixels")]
    [TestCase("RandCropImageV2", "size: [8, 8, 8]\n", "op.RandCropImageV2.size", "a pair of them")]
    public void A_bad_option_is_a_one_line_error_naming_its_key(string name, string yaml, string key, string message)
    {
        var e = Assert.Throws<ConfigException>(() => Op(name, yaml))!;

        Assert.That(e.Message, Does.Contain(key).And.Contain(message));
        Assert.That(e.Message.Split('\n'), Has.Length.EqualTo(1));
    }
}
