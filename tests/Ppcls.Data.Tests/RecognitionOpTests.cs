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

/// <summary>AugMix (the vehicle ReID recipe's augmentation).</summary>
public sealed class AugMixTests
{
    static readonly DataRegistry Registry = DataCatalog.CreateRegistry();

    static IImageOp Op(string yaml) =>
        Registry.TransformOps.Get("AugMix", "op")(TestData.Section(yaml, "op.AugMix"), new DataBuildContext(Registry, 10, _ => { }));

    static byte[] Run(IImageOp op, Mat image, int seed)
    {
        using var sample = new ImageSample(TestData.Png(image), "test.png");
        new DecodeImage(false, false).Apply(sample, new Random(0));
        op.Apply(sample, new Random(seed));
        Assert.That((sample.Image!.Width, sample.Image.Height, sample.Image.Type()), Is.EqualTo((image.Width, image.Height, MatType.CV_8UC3)));
        sample.Image.GetArray(out Vec3b[] pixels);
        return [.. pixels.SelectMany(p => new[] { p.Item0, p.Item1, p.Item2 })];
    }

    [Test]
    public void AugMix_changes_about_prob_of_the_images_and_is_repeatable_per_seed()
    {
        using var image = TestData.Image(24, 20, (x, y, c) => (byte)((x * 23 + y * 41 + c * 60) % 256));
        image.GetArray(out Vec3b[] raw);
        byte[] original = [.. raw.SelectMany(p => new[] { p.Item0, p.Item1, p.Item2 })];
        var op = Op("prob: 0.5\n");

        int changed = Enumerable.Range(0, 300).Count(seed => !Run(op, image, seed).SequenceEqual(original));

        Assert.That(changed / 300.0, Is.EqualTo(0.5).Within(0.08));
        Assert.That(Run(Op("prob: 0.0\n"), image, 1), Is.EqualTo(original));
        var first = Run(Op("prob: 1.0\n"), image, 5);
        Assert.That(Run(Op("prob: 1.0\n"), image, 5), Is.EqualTo(first).And.Not.EqualTo(original), "same seed, same mix");
    }

    [Test]
    public void On_a_flat_image_the_mix_stays_between_posterized_and_original_values_at_the_centre_and_never_brightens()
    {
        // Value 100 everywhere, one op per chain: autocontrast, equalize and solarize (threshold >= 231 at severity 1) keep
        // it, posterize to 4 bits gives 96, the geometric ops only bring in black at the borders. A convex mix, truncated,
        // stays in [95, 100] where no border reaches (the centre) and at most 100 everywhere.
        using var image = TestData.Image(31, 31, (_, _, _) => 100);
        var op = Op("prob: 1.0\nmixture_width: 3\nmixture_depth: 1\naug_severity: 1\n");

        for (int seed = 0; seed < 40; seed++)
        {
            var pixels = Run(op, image, seed);
            Assert.That(pixels, Has.All.LessThanOrEqualTo(100));
            int centre = (15 * 31 + 15) * 3;
            Assert.That(pixels[centre], Is.InRange(95, 100), $"seed {seed}");
        }
    }

    [TestCase("mixture_depth: 0\n", "op.AugMix.mixture_depth")]
    [TestCase("aug_severity: 11\n", "op.AugMix.aug_severity")]
    [TestCase("aug_prob_coeff: 0\n", "op.AugMix.aug_prob_coeff")]
    public void A_bad_option_names_its_key(string yaml, string key)
    {
        var e = Assert.Throws<ConfigException>(() => Op(yaml))!;

        Assert.That(e.Message, Does.Contain(key));
    }
}
