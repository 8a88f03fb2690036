using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Ops;

namespace Ppcls.Data.Tests;

/// <summary>Padv2, RandomCropImage (PULC attribute recipes) and Cutout (ML-Decoder's COCO recipe), pixel by pixel.</summary>
public sealed class PadCropCutoutTests
{
    static readonly DataRegistry Registry = DataCatalog.CreateRegistry();

    static IImageOp Op(string name, string yaml) =>
        Registry.TransformOps.Get(name, "op")(TestData.Section(yaml, $"op.{name}"), new DataBuildContext(Registry, 4, _ => { }));

    static ImageSample Sample(Mat image)
    {
        var sample = new ImageSample([], "test.png");
        sample.SetImage(image.Clone());
        return sample;
    }

    static byte Value(int x, int y, int c) => (byte)(x * 20 + y * 7 + c * 60 + 1);

    [TestCase("{size: [7, 5], pad_mode: 1, fill_value: 0}", 2, 1, 0.0)]
    [TestCase("{size: [7, 5], pad_mode: 0}", 0, 0, 127.5)]
    [TestCase("{size: [7, 5], pad_mode: 2, fill_value: [1, 2, 3]}", 4, 2, -1.0)]
    [TestCase("{size: [7, 5], pad_mode: -1, offsets: [3, 1], fill_value: 9}", 3, 1, 9.0)]
    [TestCase("{size_divisor: 4, pad_mode: 1}", 0, 0, 127.5)]
    public void Padv2_places_the_image_on_a_float_canvas_by_pad_mode_and_fills_the_rest(string yaml, int x0, int y0, double fill)
    {
        using var image = TestData.Image(3, 3, Value);
        using var sample = Sample(image);
        Op("Padv2", yaml).Apply(sample, new Random(0));
        var result = sample.Image!;

        // size_divisor 4 pads 3x3 to 4x4, centred with (4 - 3) / 2 = 0 offset.
        var (w, h) = yaml.Contains("size_divisor") ? (4, 4) : (7, 5);
        Assert.That((result.Width, result.Height, result.Type()), Is.EqualTo((w, h, MatType.CV_32FC3)));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                {
                    bool inside = x >= x0 && x < x0 + 3 && y >= y0 && y < y0 + 3;
                    double expected = inside ? Value(x - x0, y - y0, c) : fill >= 0 ? fill : c + 1;
                    Assert.That(result.At<Vec3f>(y, x)[c], Is.EqualTo(expected), $"({x}, {y}, {c})");
                }
    }

    [Test]
    public void Padv2_refuses_an_image_larger_than_size_and_pad_mode_minus_one_without_offsets()
    {
        using var image = TestData.Image(9, 3, Value);
        using var sample = Sample(image);
        Assert.That(() => Op("Padv2", "{size: [7, 5]}").Apply(sample, new Random(0)),
            Throws.InvalidOperationException.With.Message.EqualTo("Padv2: the image is 9x3, larger than size 7x5; resize it first or pad to a larger size"));
        Assert.That(() => Op("Padv2", "{size: 8, pad_mode: -1}"),
            Throws.TypeOf<ConfigException>().With.Message.Contains("pad_mode -1 places the image at offsets: [x, y]"));
    }

    [Test]
    public void RandomCropImage_takes_a_window_of_size_at_random_positions_covering_every_offset()
    {
        using var image = TestData.Image(6, 5, Value);
        var op = Op("RandomCropImage", "{size: [4, 4]}");
        var corners = new HashSet<(int, int)>();
        for (int seed = 0; seed < 60; seed++)
        {
            using var sample = Sample(image);
            op.Apply(sample, new Random(seed));
            var crop = sample.Image!;
            Assert.That((crop.Width, crop.Height), Is.EqualTo((4, 4)));
            // The window's first pixel tells its corner: Value(x, y, 0) = 20x + 7y + 1.
            int first = TestData.Pixel(crop, 0, 0).Item0 - 1;
            var (x0, y0) = Enumerable.Range(0, 3).SelectMany(x => Enumerable.Range(0, 2).Select(y => (x, y))).Single(p => 20 * p.x + 7 * p.y == first);
            corners.Add((x0, y0));
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++)
                    Assert.That(TestData.Pixel(crop, x, y), Is.EqualTo(TestData.Pixel(image, x + x0, y + y0)));
        }
        Assert.That(corners, Has.Count.EqualTo(6), "x in 0..2, y in 0..1");
    }

    [Test]
    public void Cutout_paints_one_clipped_box_of_a_single_colour_and_leaves_the_rest()
    {
        using var image = TestData.Image(12, 10, Value);
        for (int seed = 0; seed < 20; seed++)
        {
            using var sample = Sample(image);
            Op("Cutout", "{length: 4, fill_value: [200, 201, 202]}").Apply(sample, new Random(seed));
            var changed = new List<(int X, int Y)>();
            for (int y = 0; y < 10; y++)
                for (int x = 0; x < 12; x++)
                {
                    var p = TestData.Pixel(sample.Image!, x, y);
                    if (p == TestData.Pixel(image, x, y)) continue;
                    Assert.That(p, Is.EqualTo(new Vec3b(200, 201, 202)));
                    changed.Add((x, y));
                }
            // A box from centre - 2 to centre + 2 inclusive: at most 5x5, a full rectangle.
            int width = changed.Max(p => p.X) - changed.Min(p => p.X) + 1, height = changed.Max(p => p.Y) - changed.Min(p => p.Y) + 1;
            Assert.That(changed, Has.Count.EqualTo(width * height), $"seed {seed}");
            Assert.That(width, Is.InRange(3, 5), $"seed {seed}");
            Assert.That(height, Is.InRange(3, 5), $"seed {seed}");
        }
    }
}
