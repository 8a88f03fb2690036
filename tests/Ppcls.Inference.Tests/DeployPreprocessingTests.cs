using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Inference;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Inference.Tests;

/// <summary>
/// `ppcls predict`'s preprocessing (Ppcls.Inference, built from a deploy op list) against numbers
/// computed by hand and against the training pipeline that `ppcls infer` runs.
/// </summary>
public sealed class DeployPreprocessingTests
{
    string _dir = null!;

    [SetUp]
    public void MakeFolder() => _dir = Directory.CreateTempSubdirectory("ppcls-deploy-pre-").FullName;

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_dir, recursive: true);

    /// <summary>A lossless PNG of seeded noise, BGR as OpenCV writes it.</summary>
    string NoisePng(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var bgr = new byte[width * height * 3];
        rng.NextBytes(bgr);
        using var image = Mat.FromPixelData(height, width, MatType.CV_8UC3, bgr);
        string path = Path.Combine(_dir, $"noise{seed}.png");
        Assert.That(Cv2.ImWrite(path, image), Is.True);
        return path;
    }

    static IReadOnlyList<NamedEntry> Ops(string yaml)
    {
        var tree = YamlConfigReader.Read(new StringReader(yaml), "ops.yml");
        return new ConfigSection(tree, "").OptionalNamedList("ops")!;
    }

    [Test]
    public void Deploy_ops_decode_to_rgb_centre_crop_and_normalise_to_the_numbers_computed_by_hand()
    {
        string path = NoisePng(6, 4, seed: 1);
        using var bgr = Cv2.ImRead(path, ImreadModes.Color);
        var preprocessor = DeployOps.Build(Ops("""
            ops:
              - ResizeImage: {resize_short: 4}
              - CropImage: {size: [4, 2]}
              - NormalizeImage: {scale: 1.0/255.0, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], order: ''}
              - ToCHWImage:
            """), "ops", _ => { });

        var (chw, c, h, w) = preprocessor.Load(path);

        Assert.That((c, h, w), Is.EqualTo((3, 2, 4)));
        double[] mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 4; x++)
                {
                    // Crop offsets (6 - 4) / 2 = 1 and (4 - 2) / 2 = 1; channel 0 is red (BGR index 2).
                    double pixel = bgr.At<Vec3b>(y + 1, x + 1)[2 - ch];
                    double expected = (pixel / 255.0 - mean[ch]) / std[ch];
                    Assert.That(chw[(ch * 2 + y) * 4 + x], Is.EqualTo(expected).Within(1e-5), $"c{ch} y{y} x{x}");
                }
    }

    [TestCase("""
        ops:
          - ResizeImage: {resize_short: 36}
          - CropImage: {size: 32}
          - NormalizeImage: {scale: 1.0/255.0, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], order: ''}
          - ToCHWImage:
        """, TestName = "Inference_yml_ops_give_the_training_pipeline_numbers_to_the_bit")]
    [TestCase("""
        ops:
          - ResizeImage: {size: [40, 30], interpolation: bicubic}
          - NormalizeImage: {scale: 0.00392156862745098, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]}
          - CropImage: {size: [24, 20]}
          - ToCHWImage:
        """, TestName = "An_unfused_normalise_before_the_crop_gives_the_training_pipeline_numbers_to_the_bit")]
    public void Deploy_preprocessing_equals_the_training_pipeline(string yaml)
    {
        string path = NoisePng(50, 42, seed: 2);
        var deployOps = Ops(yaml);
        var training = ImagePreprocessor.FromTransforms(
            [new NamedEntry("DecodeImage", new ConfigSection(new ConfigMap(), "decode")), .. deployOps], "ops", _ => { });

        var expected = training.Load(path);
        var actual = DeployOps.Build(deployOps, "ops", _ => { }).Load(path);

        Assert.That((actual.C, actual.H, actual.W), Is.EqualTo((expected.C, expected.H, expected.W)));
        Assert.That(actual.Chw, Is.EqualTo(expected.Chw));
        Assert.That(actual.Chw.Distinct().Count(), Is.GreaterThan(100), "noise, not a constant image");
    }

    [Test]
    public void A_decode_image_to_bgr_at_the_head_of_the_list_keeps_opencv_channel_order()
    {
        string path = NoisePng(8, 8, seed: 3);
        using var bgr = Cv2.ImRead(path, ImreadModes.Color);

        var (chw, _, _, _) = DeployOps.Build(Ops("""
            ops:
              - DecodeImage: {to_rgb: False}
              - ToCHWImage:
            """), "ops", _ => { }).Load(path);

        Assert.That(chw[0], Is.EqualTo((float)bgr.At<Vec3b>(0, 0)[0]), "plane 0 is blue");
        Assert.That(chw[2 * 64], Is.EqualTo((float)bgr.At<Vec3b>(0, 0)[2]), "plane 2 is red");
    }

    [Test]
    public void A_training_only_op_in_a_deploy_list_is_named_with_the_ops_that_deploy()
    {
        var e = Assert.Throws<ConfigException>(() => DeployOps.Build(Ops("""
            ops:
              - RandFlipImage: {flip_code: 1}
            """), "inference.yml: PreProcess.transform_ops", _ => { }))!;

        Assert.That(e.Message, Is.EqualTo("inference.yml: PreProcess.transform_ops: RandFlipImage does not run in the deploy preprocessing; use DecodeImage (first), ResizeImage, CropImage, NormalizeImage and ToCHWImage"));
    }

    [Test]
    public void A_random_interpolation_is_refused_for_deployment()
    {
        var e = Assert.Throws<ConfigException>(() => DeployOps.Build(Ops("""
            ops:
              - ResizeImage: {resize_short: 8, interpolation: random}
            """), "ops", _ => { }))!;

        Assert.That(e.Message, Does.StartWith("ops: ResizeImage interpolation: random picks a filter per sample"));
    }

    [Test]
    public void An_unreadable_file_and_a_crop_larger_than_the_image_are_one_line_each()
    {
        string text = Path.Combine(_dir, "not-an-image.png");
        File.WriteAllText(text, "hello");
        string small = NoisePng(8, 6, seed: 4);
        var preprocessor = DeployOps.Build(Ops("""
            ops:
              - CropImage: {size: 10}
            """), "ops", _ => { });

        var unreadable = Assert.Throws<UnreadableImageException>(() => preprocessor.Load(text))!;
        var crop = Assert.Throws<UserInputException>(() => preprocessor.Load(small))!;

        Assert.That(unreadable.Message, Is.EqualTo($"cannot decode image {text} (5 bytes): not a readable JPEG/PNG/BMP/WebP file"));
        Assert.That(crop.Message, Is.EqualTo($"{small}: CropImage size 10x10 is larger than the image (8x6); resize first (ResizeImage resize_short)"));
    }
}
