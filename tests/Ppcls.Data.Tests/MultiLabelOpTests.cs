using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Ops;

namespace Ppcls.Data.Tests;

/// <summary>The ops PaddleClas's attribute and ML-Decoder configs use: Padv2, RandomCropImage, Cutout.</summary>
public sealed class MultiLabelOpTests
{
    static readonly DataRegistry Registry = DataCatalog.CreateRegistry();

    static IImageOp Op(string name, string yaml) =>
        Registry.TransformOps.Get(name, "op")(TestData.Section(yaml, $"op.{name}"), new DataBuildContext(Registry, 10, _ => { }));

    /// <summary>A 4x3 (w x h) image whose pixel (x, y) has channels (x + 10y, 100, 200).</summary>
    static ImageSample Sample()
    {
        var sample = new ImageSample([], "t.png");
        sample.SetImage(TestData.Image(4, 3, (x, y, c) => (byte)(c == 0 ? x + 10 * y : c == 1 ? 100 : 200)));
        return sample;
    }

    static Vec3f At(Mat m, int x, int y) => m.Get<Vec3f>(y, x);

    [Test]
    public void Padv2_centres_the_image_on_a_float_canvas_of_the_fill_value()
    {
        using var sample = Sample();
        Op("Padv2", "{size: [8, 6], pad_mode: 1, fill_value: 0}").Apply(sample, new Random(0));
        var image = sample.Image!;

        Assert.That(image.Type(), Is.EqualTo(MatType.CV_32FC3));
        Assert.That((image.Width, image.Height), Is.EqualTo((8, 6)));
        // Offsets (8 - 4) / 2 = 2 and (6 - 3) / 2 = 1: source (0, 0) lands at (2, 1), source (3, 2) at (5, 3).
        Assert.That(At(image, 2, 1), Is.EqualTo(new Vec3f(0, 100, 200)));
        Assert.That(At(image, 5, 3), Is.EqualTo(new Vec3f(23, 100, 200)));
        Assert.That(At(image, 1, 1), Is.EqualTo(new Vec3f(0, 0, 0)));
        Assert.That(At(image, 6, 4), Is.EqualTo(new Vec3f(0, 0, 0)));
    }

    [Test]
    public void Padv2_mode_2_pads_left_and_top_and_without_size_rounds_up_to_the_divisor()
    {
        using var sample = Sample();
        Op("Padv2", "{size_divisor: 5, pad_mode: 2, fill_value: [1, 2, 3]}").Apply(sample, new Random(0));
        var image = sample.Image!;

        Assert.That((image.Width, image.Height), Is.EqualTo((5, 5)));
        Assert.That(At(image, 0, 0), Is.EqualTo(new Vec3f(1, 2, 3)));
        Assert.That(At(image, 1, 2), Is.EqualTo(new Vec3f(0, 100, 200)));
        Assert.That(At(image, 4, 4), Is.EqualTo(new Vec3f(23, 100, 200)));
    }

    [Test]
    public void Padv2_mode_minus_1_needs_offsets()
    {
        var error = Assert.Throws<ConfigException>(() => Op("Padv2", "{size: 8, pad_mode: -1}"))!;
        Assert.That(error.Message, Does.StartWith("op.Padv2.offsets").And.Contain("add offsets: [x, y]"));
    }

    [Test]
    public void RandomCropImage_takes_a_window_of_the_size_at_every_position_with_equal_chance()
    {
        var op = Op("RandomCropImage", "{size: [2, 2]}");
        var seen = new Dictionary<(int, int), int>();
        var rng = new Random(7);
        for (int i = 0; i < 600; i++)
        {
            using var sample = Sample();
            op.Apply(sample, rng);
            var image = sample.Image!;
            Assert.That((image.Width, image.Height), Is.EqualTo((2, 2)));
            byte corner = image.Get<Vec3b>(0, 0).Item0;
            var key = (corner % 10, corner / 10);
            seen[key] = seen.GetValueOrDefault(key) + 1;
            Assert.That(image.Get<Vec3b>(1, 1).Item0, Is.EqualTo(corner + 11), "the window is contiguous");
        }
        // 3 x 2 positions (left 0..2, top 0..1), each about 100 of 600 times.
        Assert.That(seen.Keys, Is.EquivalentTo(new[] { (0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1) }));
        Assert.That(seen.Values.Min(), Is.GreaterThan(60));
    }

    [Test]
    public void Cutout_fills_a_square_of_side_length_plus_one_around_a_random_centre_inclusive_ends()
    {
        var op = Op("Cutout", "{n_holes: 1, length: 2, fill_value: [9, 9, 9]}");
        using var sample = new ImageSample([], "t.png");
        sample.SetImage(new Mat(20, 20, MatType.CV_8UC3, Scalar.All(50)));
        var rng = new Random(3);
        op.Apply(sample, rng);

        var mask = new List<(int X, int Y)>();
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 20; x++)
                if (sample.Image!.Get<Vec3b>(y, x).Item0 == 9) mask.Add((x, y));
        // The same draws again: centre (y, x), then rows and columns y-1..y+1, x-1..x+1 clipped to the image.
        var again = new Random(3);
        int cy = again.Next(20), cx = again.Next(20);
        var expected = new List<(int, int)>();
        for (int y = Math.Max(cy - 1, 0); y <= Math.Min(cy + 1, 19); y++)
            for (int x = Math.Max(cx - 1, 0); x <= Math.Min(cx + 1, 19); x++)
                expected.Add((x, y));
        Assert.That(mask, Is.EquivalentTo(expected));
    }

    [Test]
    public void Cutout_with_fill_value_none_paints_each_hole_one_random_colour()
    {
        var op = Op("Cutout", "{n_holes: 1, length: 4, fill_value: none}");
        using var sample = new ImageSample([], "t.png");
        sample.SetImage(new Mat(10, 10, MatType.CV_8UC3, Scalar.All(0)));
        op.Apply(sample, new Random(5));
        var colours = new HashSet<Vec3b>();
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 10; x++)
                if (sample.Image!.Get<Vec3b>(y, x) != new Vec3b(0, 0, 0)) colours.Add(sample.Image!.Get<Vec3b>(y, x));
        Assert.That(colours, Has.Count.EqualTo(1));
    }
}
