using OpenCvSharp;
using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Loading;
using Ppcls.Data.Ops;
using Ppcls.Inference;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Tests;

public sealed class OpTests
{
    static readonly Action<string> Quiet = _ => { };
    static readonly DataRegistry Registry = DataCatalog.CreateRegistry();

    static IImageOp Op(string name, string yaml = "{}") =>
        Registry.TransformOps.Get(name, "op")(TestData.Section(yaml, $"op.{name}"), new DataBuildContext(Registry, 10, Quiet));

    static ImageSample Decoded(Mat bgr, bool toRgb = false)
    {
        var sample = new ImageSample(TestData.Png(bgr), "test.png");
        new DecodeImage(toRgb, false).Apply(sample, new Random(0));
        return sample;
    }

    [Test]
    public void Decode_keeps_bgr_order_or_swaps_to_rgb_when_asked()
    {
        using var image = TestData.Image(2, 1, (_, _, c) => (byte)(10 + 10 * c));
        using var bgr = Decoded(image);
        using var rgb = Decoded(image, toRgb: true);
        Assert.That(TestData.Pixel(bgr.Image!, 1, 0), Is.EqualTo(new Vec3b(10, 20, 30)));
        Assert.That(TestData.Pixel(rgb.Image!, 1, 0), Is.EqualTo(new Vec3b(30, 20, 10)));
    }

    [Test]
    public void Decode_of_garbage_bytes_raises_a_bad_image_error_naming_the_file()
    {
        using var sample = new ImageSample([1, 2, 3, 4], "broken.jpg");
        Assert.That(() => new DecodeImage(true, false).Apply(sample, new Random(0)),
            Throws.TypeOf<BadImageException>().With.Message.Contains("broken.jpg"));
    }

    [TestCase("{}", InterpolationMode.Bilinear)]
    [TestCase("{interpolation: box}", InterpolationMode.Area)]
    [TestCase("{interpolation: Hamming}", InterpolationMode.Bilinear)]
    [TestCase("{interpolation: INTER_LANCZOS4}", InterpolationMode.Lanczos)]
    [TestCase("{interpolation: 2}", InterpolationMode.Bicubic)]
    [TestCase("{interpolation: random}", InterpolationMode.Random)]
    public void Interpolation_is_parsed_once_into_its_mode_when_the_op_is_built(string yaml, InterpolationMode mode)
    {
        var interpolation = OpOptions.ReadInterpolation(TestData.Section(yaml, "op.ResizeImage"), Quiet);

        Assert.That(interpolation.Mode, Is.EqualTo(mode));
        var rng = new Random(3);
        var picked = Enumerable.Range(0, 50).Select(_ => interpolation.Pick(rng)).Distinct().Order();
        Assert.That(picked, Is.EqualTo(mode == InterpolationMode.Random ? [InterpolationFlags.Linear, InterpolationFlags.Cubic] : interpolation.Filters));
    }

    [Test]
    public void An_unknown_interpolation_name_lists_the_valid_ones()
    {
        Assert.That(() => OpOptions.ReadInterpolation(TestData.Section("{interpolation: bicubik}", "op.ResizeImage"), Quiet),
            Throws.TypeOf<ConfigException>().With.Message.Contains("op.ResizeImage.interpolation").And.Message.Contains("'bicubik' is not valid")
                .And.Message.Contains("use one of: nearest, bilinear, linear, area, bicubic, cubic, lanczos, box, hamming, random, INTER_NEAREST"));
    }

    [Test]
    public void Decode_of_an_empty_file_says_the_file_is_empty()
    {
        using var sample = new ImageSample([], "images/empty.jpg");
        Assert.That(() => new DecodeImage(true, false).Apply(sample, new Random(0)),
            Throws.TypeOf<BadImageException>().With.Message.EqualTo(
                "cannot decode image images/empty.jpg: the file is empty (0 bytes); replace it or remove its line from the list"));
    }

    [Test]
    public void Resize_short_scales_the_short_side_and_rounds_half_to_even_like_python()
    {
        Assert.That(ResizeOp.TargetSize(40, 20, null, 10), Is.EqualTo(new Size(20, 10)));
        Assert.That(ResizeOp.TargetSize(5, 2, null, 5), Is.EqualTo(new Size(12, 5)));
        using var sample = Decoded(TestData.Image(40, 20, (x, _, _) => (byte)x));
        Op("ResizeImage", "{resize_short: 10, interpolation: nearest}").Apply(sample, new Random(0));
        Assert.That(sample.Image!.Size(), Is.EqualTo(new Size(20, 10)));
    }

    [Test]
    public void Resize_with_a_size_list_takes_width_then_height()
    {
        using var sample = Decoded(TestData.Image(16, 16, (_, _, _) => 7));
        Op("ResizeImage", "{size: [12, 6], backend: pil, interpolation: box}").Apply(sample, new Random(0));
        Assert.That(sample.Image!.Size(), Is.EqualTo(new Size(12, 6)));
        Assert.That(TestData.Pixel(sample.Image!, 3, 3), Is.EqualTo(new Vec3b(7, 7, 7)));
    }

    [Test]
    public void Center_crop_takes_the_floor_centred_box()
    {
        Assert.That(CropOp.Box(10, 8, new Size(4, 4)), Is.EqualTo(new Rect(3, 2, 4, 4)));
        Assert.That(CropOp.Box(11, 9, new Size(4, 4)), Is.EqualTo(new Rect(3, 2, 4, 4)));
        using var sample = Decoded(TestData.Image(10, 8, (x, y, c) => (byte)(c == 0 ? x : c == 1 ? y : 0)));
        Op("CropImage", "{size: 4}").Apply(sample, new Random(0));
        Assert.That(sample.Image!.Size(), Is.EqualTo(new Size(4, 4)));
        Assert.That(TestData.Pixel(sample.Image!, 0, 0), Is.EqualTo(new Vec3b(3, 2, 0)));
        Assert.That(TestData.Pixel(sample.Image!, 3, 3), Is.EqualTo(new Vec3b(6, 5, 0)));
    }

    [Test]
    public void Center_crop_larger_than_the_image_names_the_image()
    {
        using var sample = Decoded(TestData.Image(4, 4, (_, _, _) => 0));
        // The crop is the deploy side's (Ppcls.Inference), whose user errors are UserInputException.
        Assert.That(() => Op("CropImage", "{size: 8}").Apply(sample, new Random(0)),
            Throws.InstanceOf<UserInputException>().With.Message.Contains("test.png"));
    }

    [Test]
    public void Rand_crop_caps_the_area_by_what_fits_at_the_drawn_ratio()
    {
        // ratio 1 on a 20x10 image: bound = min(2, 0.5) = 0.5, so the area is 0.5 * 200 = 100 -> 10x10 at y = 0.
        var op = (RandCropImage)Op("RandCropImage", "{size: 8, scale: [1.0, 1.0], ratio: [1.0, 1.0]}");
        for (int seed = 0; seed < 20; seed++)
        {
            var box = op.Box(20, 10, new Random(seed));
            Assert.That((box.Width, box.Height, box.Y), Is.EqualTo((10, 10, 0)));
            Assert.That(box.X, Is.InRange(0, 10));
        }
    }

    [Test]
    public void Rand_crop_boxes_stay_inside_the_image_and_the_output_has_the_target_size()
    {
        var op = (RandCropImage)Op("RandCropImage", "{size: [6, 5], use_log_aspect: True}");
        for (int seed = 0; seed < 50; seed++)
        {
            var box = op.Box(17, 13, new Random(seed));
            Assert.That(box.X >= 0 && box.Y >= 0 && box.Right <= 17 && box.Bottom <= 13 && box.Width >= 1 && box.Height >= 1, Is.True, $"{box}");
        }
        using var sample = Decoded(TestData.Image(17, 13, (x, _, _) => (byte)x));
        op.Apply(sample, new Random(3));
        Assert.That(sample.Image!.Size(), Is.EqualTo(new Size(6, 5)));
    }

    [Test]
    public void Rand_flip_returns_the_image_or_its_mirror_and_both_happen()
    {
        var op = Op("RandFlipImage", "{flip_code: 1}");
        int flipped = 0, kept = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            using var sample = Decoded(TestData.Image(3, 1, (x, _, _) => (byte)(x * 100)));
            op.Apply(sample, new Random(seed));
            byte first = TestData.Pixel(sample.Image!, 0, 0).Item0;
            Assert.That(first, Is.EqualTo(0).Or.EqualTo(200));
            if (first == 200)
            {
                flipped++;
                Assert.That(TestData.Pixel(sample.Image!, 2, 0).Item0, Is.EqualTo(0));
            }
            else kept++;
        }
        Assert.That((flipped > 0, kept > 0), Is.EqualTo((true, true)));
    }

    [Test]
    public void Vertical_flip_code_mirrors_rows()
    {
        var op = Op("RandFlipImage", "{flip_code: 0}");
        for (int seed = 0; seed < 10; seed++)
        {
            using var sample = Decoded(TestData.Image(1, 3, (_, y, _) => (byte)(y * 100)));
            op.Apply(sample, new Random(seed));
            Assert.That(TestData.Pixel(sample.Image!, 0, 0).Item0, Is.EqualTo(0).Or.EqualTo(200));
            Assert.That(TestData.Pixel(sample.Image!, 0, 1).Item0, Is.EqualTo(100));
        }
    }

    static readonly float[] Expected =
    [
        (float)((255 / 255.0 - 0.485) / 0.229),
        (float)((0 / 255.0 - 0.456) / 0.224),
        (float)((128 / 255.0 - 0.406) / 0.225),
    ];

    [Test]
    public void Normalize_computes_scale_mean_std_per_channel_as_float()
    {
        using var sample = Decoded(TestData.Image(2, 2, (_, _, c) => (byte)(c == 0 ? 255 : c == 1 ? 0 : 128)));
        Op("NormalizeImage", "{scale: 1.0/255.0, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], order: ''}").Apply(sample, new Random(0));
        Assert.That(sample.Image!.Type(), Is.EqualTo(MatType.CV_32FC3));
        var v = sample.Image!.Get<Vec3f>(1, 1);
        Assert.That(new[] { v.Item0, v.Item1, v.Item2 }, Is.EqualTo(Expected).Within(1e-5f));
    }

    [Test]
    public void A_trailing_normalize_is_fused_into_the_chw_writer_with_the_same_values()
    {
        var ops = new List<IImageOp> { new DecodeImage(false, false), Op("NormalizeImage", "{order: hwc}") };
        var pipeline = new SamplePipeline(ops, "ops");
        Assert.That(pipeline.Ops, Has.Count.EqualTo(1));
        using var image = TestData.Image(2, 1, (x, _, c) => x == 0 ? (byte)(c == 0 ? 255 : c == 1 ? 0 : 128) : (byte)0);
        using var sample = pipeline.Run(TestData.Png(image), "a.png", new Random(0));
        var chw = new float[3 * 2];
        pipeline.WriteChw(sample.Image!, chw, "a.png");
        Assert.That(new[] { chw[0], chw[2], chw[4] }, Is.EqualTo(Expected).Within(1e-5f));
        Assert.That(chw[1], Is.EqualTo((float)(-0.485 / 0.229)).Within(1e-5f));
    }

    [Test]
    public void The_writer_lays_hwc_pixels_out_as_chw_planes()
    {
        var pipeline = new SamplePipeline([new DecodeImage(false, false), new ToCHWImage()], "ops");
        using var image = TestData.Image(2, 2, (x, y, c) => (byte)(100 * c + 10 * y + x));
        using var sample = pipeline.Run(TestData.Png(image), "a.png", new Random(0));
        Assert.That(sample.ChannelFirst, Is.True);
        var chw = new float[12];
        pipeline.WriteChw(sample.Image!, chw, "a.png");
        Assert.That(chw, Is.EqualTo(new float[] { 0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211 }));
    }

    [Test]
    public void With_only_geometric_ops_the_writer_does_the_rgb_swap_and_a_normalize_before_to_chw_is_fused()
    {
        var ops = new List<IImageOp> { new DecodeImage(true, false), Op("CropImage", "{size: 2}"), Op("NormalizeImage", "{scale: 1.0, mean: [0, 0, 0], std: [1, 1, 0.5]}"), new ToCHWImage() };
        var pipeline = new SamplePipeline(ops, "ops");
        Assert.That(pipeline.Ops.Select(op => op.Name), Is.EqualTo(new[] { "DecodeImage", "CropImage", "ToCHWImage" }));
        Assert.That(((DecodeImage)pipeline.Ops[0]).ToRgb, Is.False, "the swap moves to the writer");
        using var image = TestData.Image(2, 2, (x, y, c) => (byte)(100 * c + 10 * y + x)); // stored BGR
        using var sample = pipeline.Run(TestData.Png(image), "a.png", new Random(0));
        var chw = new float[12];
        pipeline.WriteChw(sample.Image!, chw, "a.png");
        Assert.That(chw, Is.EqualTo(new float[] { 200, 201, 210, 211, 100, 101, 110, 111, 0, 2, 20, 22 }));
    }

    [Test]
    public void A_colour_op_after_decode_keeps_the_rgb_conversion_in_decode()
    {
        var pipeline = new SamplePipeline([new DecodeImage(true, false), Op("RandAugment", "{num_layers: 1, magnitude: 0}")], "ops");
        Assert.That(((DecodeImage)pipeline.Ops[0]).ToRgb, Is.True);
    }

    [Test]
    public void Random_erasing_with_fixed_area_and_ratio_erases_exactly_that_box()
    {
        var op = (RandomErasing)Op("RandomErasing", "{EPSILON: 1.0, sl: 0.25, sh: 0.25, r1: 1.0, mean: [0, 0, 0]}");
        for (int seed = 0; seed < 10; seed++)
        {
            using var sample = Decoded(TestData.Image(20, 20, (_, _, _) => 50));
            op.Apply(sample, new Random(seed));
            int zeros = 0;
            for (int y = 0; y < 20; y++)
                for (int x = 0; x < 20; x++)
                    if (TestData.Pixel(sample.Image!, x, y) == new Vec3b(0, 0, 0)) zeros++;
            Assert.That(zeros, Is.EqualTo(100));
        }
    }

    [Test]
    public void Random_erasing_boxes_respect_the_area_bounds()
    {
        var op = (RandomErasing)Op("RandomErasing", "{EPSILON: 1.0, sl: 0.1, sh: 0.3, r1: 0.5}");
        for (int seed = 0; seed < 100; seed++)
        {
            var box = op.Box(32, 32, new Random(seed));
            if (box is not { } b) continue;
            double fraction = (double)b.Width * b.Height / (32 * 32);
            Assert.That(fraction, Is.InRange(0.06, 0.36), $"{b}");
            Assert.That(b.Right <= 32 && b.Bottom <= 32 && b.Width < 32 && b.Height < 32, Is.True);
        }
    }

    [Test]
    public void Random_erasing_with_epsilon_zero_never_erases()
    {
        var op = (RandomErasing)Op("RandomErasing", "{EPSILON: 0.0}");
        Assert.That(Enumerable.Range(0, 50).Select(s => op.Box(16, 16, new Random(s))), Has.All.Null);
    }

    [Test]
    public void Random_erasing_rand_mode_fills_one_value_per_channel_on_float_images()
    {
        var op = Op("RandomErasing", "{EPSILON: 1.0, sl: 0.25, sh: 0.25, r1: 1.0, mode: rand}");
        using var sample = Decoded(TestData.Image(20, 20, (_, _, _) => 0));
        Op("NormalizeImage", "{scale: 0.0, mean: [0.5, 0.5, 0.5], std: [1, 1, 1]}").Apply(sample, new Random(0));
        op.Apply(sample, new Random(1));
        var values = new HashSet<float>();
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 20; x++)
                values.Add(sample.Image!.Get<Vec3f>(y, x).Item0);
        Assert.That(values, Has.Count.EqualTo(2).And.Contains(-0.5f));
    }
}
