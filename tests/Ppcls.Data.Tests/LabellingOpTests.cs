using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Loading;
using Ppcls.Data.Ops;

namespace Ppcls.Data.Tests;

/// <summary>BlurImage and RandomRot90 (PULC clarity_assessment, image_orientation): pixels, the labels they set, and CustomLabelDataset training on them.</summary>
public sealed class LabellingOpTests
{
    static readonly DataRegistry Registry = DataCatalog.CreateRegistry();
    static readonly DataLoaderFactory Factory = new(Registry);

    static IImageOp Op(string name, string yaml = "{}") =>
        Registry.TransformOps.Get(name, "op")(TestData.Section(yaml, $"op.{name}"), new DataBuildContext(Registry, 4, _ => { }));

    static ImageSample Decoded(Mat bgr)
    {
        var sample = new ImageSample(TestData.Png(bgr), "test.png");
        new DecodeImage(false, false).Apply(sample, new Random(0));
        return sample;
    }

    static byte[,,] Pixels(Mat m)
    {
        int height = m.Height, width = m.Width;
        var p = new byte[height, width, 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++) p[y, x, c] = m.Get<Vec3b>(y, x)[c];
        return p;
    }

    /// <summary>numpy's rot90(a, k) over the first two axes: k counter-clockwise quarter turns, out[i, j] = a[j, W-1-i] per turn.</summary>
    static byte[,,] Rot90(byte[,,] a, int k)
    {
        for (int turn = 0; turn < k; turn++)
        {
            int h = a.GetLength(0), w = a.GetLength(1);
            var r = new byte[w, h, 3];
            for (int i = 0; i < w; i++)
                for (int j = 0; j < h; j++)
                    for (int c = 0; c < 3; c++) r[i, j, c] = a[j, w - 1 - i, c];
            a = r;
        }
        return a;
    }

    static Mat Pattern(int width, int height) => TestData.Image(width, height, (x, y, c) => (byte)(x * 20 + y * 3 + c * 70));

    [Test]
    public void RandomRot90_turns_the_image_counter_clockwise_by_its_label_in_quarter_turns()
    {
        var op = Op("RandomRot90");
        using var image = Pattern(5, 3);
        var original = Pixels(image);
        var seen = new HashSet<long>();
        for (int seed = 0; seed < 40; seed++)
        {
            using var sample = Decoded(image);
            op.Apply(sample, new Random(seed));
            long k = sample.OpLabels[RandomRot90.Key];
            seen.Add(k);
            Assert.That(Pixels(sample.Image!), Is.EqualTo(Rot90(original, (int)k)), $"seed {seed}, k = {k}");
        }
        Assert.That(seen, Is.EquivalentTo(new long[] { 0, 1, 2, 3 }));
    }

    [Test]
    public void BlurImage_with_ratio_0_keeps_every_image_sharp_with_label_0_and_with_ratio_1_blurs_every_one_with_label_1()
    {
        using var image = Pattern(16, 12);
        var original = Pixels(image);
        for (int seed = 0; seed < 10; seed++)
        {
            using var sharp = Decoded(image);
            Op("BlurImage", "{ratio: 0.0}").Apply(sharp, new Random(seed));
            Assert.That(sharp.OpLabels[BlurImage.Key], Is.EqualTo(0));
            Assert.That(Pixels(sharp.Image!), Is.EqualTo(original));

            using var blurred = Decoded(image);
            Op("BlurImage", "{ratio: 1.0}").Apply(blurred, new Random(seed));
            Assert.That(blurred.OpLabels[BlurImage.Key], Is.EqualTo(1));
            Assert.That(Pixels(blurred.Image!), Is.Not.EqualTo(original));
            Assert.That((blurred.Image!.Width, blurred.Image.Height), Is.EqualTo((16, 12)));
        }
    }

    [Test]
    public void BlurImage_labels_about_ratio_of_the_samples_blurred_and_the_same_seed_gives_the_same_sample()
    {
        var op = Op("BlurImage", "{ratio: 0.3}");
        using var image = Pattern(16, 12);
        int blurred = 0;
        for (int seed = 0; seed < 400; seed++)
        {
            using var a = Decoded(image);
            using var b = Decoded(image);
            op.Apply(a, new Random(seed));
            op.Apply(b, new Random(seed));
            Assert.That(b.OpLabels[BlurImage.Key], Is.EqualTo(a.OpLabels[BlurImage.Key]));
            Assert.That(Pixels(b.Image!), Is.EqualTo(Pixels(a.Image!)));
            blurred += (int)a.OpLabels[BlurImage.Key];
        }
        Assert.That(blurred / 400.0, Is.EqualTo(0.3).Within(0.06));
    }

    [Test]
    public void Motion_blur_at_angle_0_is_the_diagonal_mean_filter_stretched_to_0_255()
    {
        using var kernel = BlurImage.MotionKernel(5, 0);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++)
                Assert.That(kernel.Get<double>(i, j), Is.EqualTo(i == j ? 0.2 : 0.0).Within(1e-12));

        using var image = TestData.Image(9, 7, (x, y, c) => (byte)((x * 37 + y * 91 + c * 53) % 251));
        var src = Pixels(image);
        using var blurred = BlurImage.Motion(image, 5, 0);
        // float64 reference: correlation with the diagonal (anchor at the centre, OpenCV's reflect-101
        // border), rounded to uint8, then min-max stretched over all channels to 0 .. 255.
        static int Reflect(int i, int n) => i < 0 ? -i : i >= n ? 2 * n - 2 - i : i;
        var filtered = new double[7, 9, 3];
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 9; x++)
                for (int c = 0; c < 3; c++)
                {
                    double sum = 0;
                    for (int k = 0; k < 5; k++) sum += 0.2 * src[Reflect(y + k - 2, 7), Reflect(x + k - 2, 9), c];
                    filtered[y, x, c] = Math.Round(sum, MidpointRounding.ToEven);
                }
        double min = filtered.Cast<double>().Min(), max = filtered.Cast<double>().Max();
        var actual = Pixels(blurred);
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 9; x++)
                for (int c = 0; c < 3; c++)
                    Assert.That(actual[y, x, c], Is.EqualTo((filtered[y, x, c] - min) * 255 / (max - min)).Within(1.0), $"({x}, {y}, {c})");
        Assert.That((actual.Cast<byte>().Min(), actual.Cast<byte>().Max()), Is.EqualTo(((byte)0, (byte)255)));
    }

    static string CustomLabelYaml(string dir, string ops) => $"""
        dataset:
          name: CustomLabelDataset
          image_root: {dir}
          sample_list_path: {Path.Combine(dir, "list.txt")}
          label_key: random_rot90_orientation
          delimiter: ' '
          transform_ops:
        {ops}
        sampler:
          name: DistributedBatchSampler
          batch_size: 8
          drop_last: False
          shuffle: False
        loader:
          num_workers: 0
        """;

    [Test]
    public void CustomLabelDataset_trains_on_the_label_its_op_sets_for_each_sample()
    {
        string dir = TestData.ImageSet(8, 2);
        const string ops = """
                - DecodeImage: {to_rgb: False}
                - CropImage: {size: 8}
                - RandomRot90:
            """;
        using var loader = Factory.BuildLoader(TestData.Loader(CustomLabelYaml(dir, ops)), 4, 11, _ => { });
        using var batch = loader.Epoch(1).Single();
        var labels = batch.Labels.data<long>().ToArray();
        var pixels = batch.Images.data<float>().ToArray();

        Assert.That(labels, Has.Length.EqualTo(8));
        Assert.That(labels.Distinct().Count(), Is.GreaterThan(1));
        for (int i = 0; i < 8; i++)
        {
            using var file = Cv2.ImRead(Path.Combine(dir, "images", $"{i}.png"));
            using var crop = new Mat(file, new Rect(2, 1, 8, 8));
            var expected = Rot90(Pixels(crop), (int)labels[i]);
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                    for (int c = 0; c < 3; c++)
                        Assert.That(pixels[((i * 3 + c) * 8 + y) * 8 + x], Is.EqualTo(expected[y, x, c]), $"image {i} label {labels[i]} at ({x}, {y}, {c})");
        }
    }

    [Test]
    public void A_label_key_no_op_sets_and_a_class_num_below_the_op_labels_are_config_errors()
    {
        string dir = TestData.ImageSet(4, 2);
        var missing = Assert.Throws<ConfigException>(() => Factory.BuildLoader(
            TestData.Loader(CustomLabelYaml(dir, "        - DecodeImage: {to_rgb: False}\n        - BlurImage:\n")), 4, 1, _ => { }))!;
        Assert.That(missing.Message, Does.StartWith("DataLoader.Train.dataset.label_key ("));
        Assert.That(missing.Message, Does.EndWith("no op in transform_ops sets 'random_rot90_orientation'; the ops here set blur_image"));

        var few = Assert.Throws<ConfigException>(() => Factory.BuildLoader(
            TestData.Loader(CustomLabelYaml(dir, "        - DecodeImage: {to_rgb: False}\n        - RandomRot90:\n")), 2, 1, _ => { }))!;
        Assert.That(few.Message, Is.EqualTo("Arch.class_num: RandomRot90 gives 4 labels (random_rot90_orientation: 0 .. 3) but class_num is 2; set -o Arch.class_num=4"));
    }
}
