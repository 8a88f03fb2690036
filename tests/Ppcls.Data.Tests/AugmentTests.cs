using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Ops;
using Ppcls.Data.Ops.Augment;

namespace Ppcls.Data.Tests;

public sealed class AugmentTests
{
    static readonly DataRegistry Registry = DataCatalog.CreateRegistry();

    static IImageOp Op(string name, string yaml = "{}") =>
        Registry.TransformOps.Get(name, "op")(TestData.Section(yaml, $"op.{name}"), new DataBuildContext(Registry, 10, _ => { }));

    static Mat Solid(byte r, byte g, byte b, int size = 4) => TestData.Image(size, size, (_, _, c) => c == 0 ? r : c == 1 ? g : b);

    [Test]
    public void Point_ops_follow_the_pil_formulas()
    {
        using var img = Solid(200, 10, 128);
        using var inverted = PilOps.Invert(img);
        using var solarized = PilOps.Solarize(img, 128);
        using var posterized = PilOps.Posterize(img, 2);
        using var added = PilOps.SolarizeAdd(img, 100);
        using var darker = PilOps.Brightness(img, 0.5);
        Assert.That(TestData.Pixel(inverted, 0, 0), Is.EqualTo(new Vec3b(55, 245, 127)));
        Assert.That(TestData.Pixel(solarized, 0, 0), Is.EqualTo(new Vec3b(55, 10, 127)));
        Assert.That(TestData.Pixel(posterized, 0, 0), Is.EqualTo(new Vec3b(192, 0, 128)));
        Assert.That(TestData.Pixel(added, 0, 0), Is.EqualTo(new Vec3b(200, 110, 128)));
        Assert.That(TestData.Pixel(darker, 0, 0), Is.EqualTo(new Vec3b(100, 5, 64)));
    }

    [Test]
    public void Color_zero_gives_pil_luminance_and_contrast_zero_gives_the_mean_gray()
    {
        using var red = Solid(255, 0, 0);
        using var gray = PilOps.Color(red, 0);
        using var flat = PilOps.Contrast(red, 0);
        Assert.That(TestData.Pixel(gray, 1, 1), Is.EqualTo(new Vec3b(76, 76, 76)));
        Assert.That(TestData.Pixel(flat, 1, 1), Is.EqualTo(new Vec3b(76, 76, 76)));
    }

    [Test]
    public void Autocontrast_stretches_each_channel_to_the_full_range()
    {
        using var img = TestData.Image(2, 1, (x, _, _) => (byte)(x == 0 ? 64 : 128));
        using var result = PilOps.AutoContrast(img);
        Assert.That((TestData.Pixel(result, 0, 0).Item0, TestData.Pixel(result, 1, 0).Item0), Is.EqualTo(((byte)0, (byte)255)));
    }

    [Test]
    public void Equalize_spreads_a_two_level_image_to_black_and_white()
    {
        using var img = TestData.Image(32, 32, (x, _, _) => (byte)(x < 16 ? 10 : 200));
        using var result = PilOps.Equalize(img);
        Assert.That((TestData.Pixel(result, 0, 0).Item0, TestData.Pixel(result, 31, 0).Item0), Is.EqualTo(((byte)0, (byte)255)));
    }

    [Test]
    public void Rotate_turns_counter_clockwise_and_shear_samples_pil_affine_coordinates()
    {
        using var img = TestData.Image(3, 3, (x, y, _) => (byte)(x == 2 && y == 0 ? 255 : 0));
        using var rotated = PilOps.Rotate(img, 90, InterpolationFlags.Nearest, Scalar.All(0));
        Assert.That(TestData.Pixel(rotated, 0, 0).Item0, Is.EqualTo(255));
        using var ramp = TestData.Image(4, 4, (x, y, _) => (byte)(10 * x + y));
        using var sheared = PilOps.Affine(ramp, 1, 1, 0, 0, 1, 0, InterpolationFlags.Nearest, Scalar.All(99));
        Assert.That(TestData.Pixel(sheared, 0, 1).Item0, Is.EqualTo(11));
        Assert.That(TestData.Pixel(sheared, 3, 3).Item0, Is.EqualTo(99));
    }

    [Test]
    public void Auto_augment_magnitude_bins_match_numpy_linspace()
    {
        Assert.That(AutoAugment.Magnitude("posterize", 8), Is.EqualTo(4));
        Assert.That(AutoAugment.Magnitude("posterize", 1), Is.EqualTo(8));
        Assert.That(AutoAugment.Magnitude("solarize", 5), Is.EqualTo(256 - 5 * 256 / 9.0).Within(1e-9));
        Assert.That(AutoAugment.Magnitude("rotate", 9), Is.EqualTo(30));
    }

    [Test]
    public void RandAugmentV4_cutout_bins_are_numpy_round_of_linspace_0_20_and_the_box_spans_centre_minus_to_plus_pad()
    {
        Assert.That(Enumerable.Range(1, 9).Select(b => RandAugmentV4.Magnitude("cutout", b)), Is.EqualTo(new double[] { 2, 4, 7, 9, 11, 13, 16, 18, 20 }));
        Assert.That(RandAugmentV4.Magnitude("rotate", 9), Is.EqualTo(AutoAugment.Magnitude("rotate", 9)));

        using var image = new Mat(10, 12, MatType.CV_8UC3, Scalar.All(7));
        RandAugmentV4.ZeroBox(image, cy: 1, cx: 10, pad: 3);
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 12; x++)
                Assert.That(image.Get<Vec3b>(y, x).Item0, Is.EqualTo(y < 4 && x >= 7 ? 0 : 7), $"({x}, {y})");
    }

    [Test]
    public void RandAugmentV4_applies_each_of_its_two_ops_with_probability_one_half()
    {
        var op = Op("RandAugmentV4", "{}");
        int untouched = 0;
        const int runs = 400;
        for (int seed = 0; seed < runs; seed++)
        {
            using var original = TestData.Image(16, 12, (x, y, c) => (byte)(x * 13 + y * 17 + c * 40));
            using var sample = new ImageSample([], "a.png");
            sample.SetImage(original.Clone());
            op.Apply(sample, new Random(seed));
            if (Cv2.Norm(original, sample.Image!) == 0) untouched++;
        }
        // Both ops skipped: 1/4 of the draws (100 of 400); a few applied ops leave this image as it is.
        Assert.That(untouched, Is.InRange(70, 150));
    }

    [TestCase("TimmAutoAugment", "{config_str: rand-m9-mstd0.5-inc1, img_size: 16}")]
    [TestCase("TimmAutoAugment", "{config_str: rand-n3-m7-w0, interpolation: random}")]
    [TestCase("RandAugment", "{num_layers: 3, magnitude: 9}")]
    [TestCase("AutoAugment", "{}")]
    [TestCase("RandAugmentV4", "{}")]
    public void Augment_policies_keep_the_size_and_repeat_for_a_seed(string name, string yaml)
    {
        var op = Op(name, yaml);
        var results = new List<byte[]>();
        int changed = 0;
        for (int run = 0; run < 2; run++)
            for (int seed = 0; seed < 8; seed++)
            {
                using var original = TestData.Image(16, 12, (x, y, c) => (byte)(x * 13 + y * 17 + c * 40));
                using var sample = new ImageSample(TestData.Png(original), "a.png");
                new DecodeImage(true, false).Apply(sample, new Random(0));
                using var before = sample.Image!.Clone();
                op.Apply(sample, new Random(seed));
                Assert.That(sample.Image!.Size(), Is.EqualTo(new Size(16, 12)));
                Assert.That(sample.Image!.Type(), Is.EqualTo(MatType.CV_8UC3));
                sample.Image!.GetArray(out Vec3b[] pixels);
                results.Add([.. pixels.SelectMany(p => new[] { p.Item0, p.Item1, p.Item2 })]);
                if (Cv2.Norm(before, sample.Image!) > 0) changed++;
            }
        for (int i = 0; i < 8; i++) Assert.That(results[i + 8], Is.EqualTo(results[i]));
        Assert.That(changed, Is.GreaterThan(0));
    }

    [Test]
    public void Timm_config_strings_other_than_rand_or_with_unknown_sections_are_config_errors()
    {
        Assert.That(() => Op("TimmAutoAugment", "{config_str: augmix-m5}"),
            Throws.TypeOf<ConfigException>().With.Message.Contains("op.TimmAutoAugment.config_str"));
        Assert.That(() => Op("TimmAutoAugment", "{config_str: rand-q3}"),
            Throws.TypeOf<ConfigException>().With.Message.Contains("'q3' is not a RandAugment section"));
    }
}
