using Ppcls.Core;
using Ppcls.Core.Config;

namespace Ppcls.Data.Tests;

public sealed class LoaderConfigTests
{
    static readonly DataLoaderFactory Factory = new(DataCatalog.CreateRegistry());

    static Exception BuildError(string ops, string extra = "", string? dir = null)
    {
        dir ??= TestData.ImageSet(2, 2);
        var config = TestData.Loader(TestData.LoaderYaml(dir, ops, extra: extra));
        return Assert.Catch(() => Factory.Build(config, 2, 1, _ => { }))!;
    }

    [Test]
    public void A_misspelt_op_parameter_names_its_key_path_and_suggests_the_right_key()
    {
        var error = BuildError("""
                - DecodeImage:
                - RandCropImage:
                    sise: 8
            """);
        Assert.That(error, Is.TypeOf<ConfigException>());
        Assert.That(error.Message, Does.Contain("DataLoader.Train.dataset.transform_ops.1.RandCropImage.sise").And.Contain("did you mean 'size'"));
    }

    [Test]
    public void A_misspelt_op_name_names_its_list_item_and_lists_the_valid_ops()
    {
        var error = BuildError("""
                - DecodeImage:
                - RandCropImag:
                    size: 8
            """);
        Assert.That(error, Is.TypeOf<ConfigException>());
        Assert.That(error.Message, Does.Contain("DataLoader.Train.dataset.transform_ops.1").And.Contain("did you mean 'RandCropImage'").And.Contain("NormalizeImage"));
    }

    [Test]
    public void Ops_are_validated_before_the_list_file_is_touched()
    {
        string dir = TestData.TempDir();
        var error = BuildError("""
                - DecodeImage:
                - NormalizeImage:
                    order: nchw
            """, dir: dir);
        Assert.That(error, Is.TypeOf<ConfigException>());
        Assert.That(error.Message, Does.Contain("transform_ops.1.NormalizeImage.order").And.Contain("'nchw' is not valid"));
    }

    [Test]
    public void A_misspelt_dataset_key_is_rejected_with_a_suggestion()
    {
        var error = BuildError("""
                - DecodeImage:
            """, extra: "  relable: True");
        Assert.That(error.Message, Does.Contain("DataLoader.Train.dataset.relable").And.Contain("did you mean 'relabel'"));
    }

    [Test]
    public void Transform_ops_must_start_with_decode_image()
    {
        var error = BuildError("""
                - ResizeImage:
                    size: 8
            """);
        Assert.That(error.Message, Does.Contain("must start with DecodeImage"));
    }

    [Test]
    public void A_paddleclas_op_not_built_yet_says_so_instead_of_unknown()
    {
        var error = BuildError("""
                - DecodeImage:
                - ColorJitter:
                    brightness: 0.4
            """);
        Assert.That(error.Message, Does.Contain("transform_ops.1.ColorJitter").And.Contain("not available in this version"));
    }

    [Test]
    public void Labels_beyond_class_num_fail_when_the_loader_is_built()
    {
        string dir = TestData.ImageSet(3, 3);
        var config = TestData.Loader(TestData.LoaderYaml(dir, TestData.TrainOps));
        Assert.That(() => Factory.Build(config, 2, 1, _ => { }),
            Throws.InstanceOf<PpclsUserException>().With.Message.Contains("list.txt:3: label 2 is out of range for class_num 2"));
    }

    [TestCase("RandCropImage", "size: 100000", "size")]
    [TestCase("ResizeImage", "size: [224, 20000]", "size")]
    [TestCase("ResizeImage", "resize_short: 50000", "resize_short")]
    [TestCase("CropImage", "size: 16385", "size")]
    public void An_output_size_beyond_the_largest_side_is_a_config_error_before_any_image_is_read(string op, string option, string key)
    {
        var error = BuildError($"""
                - DecodeImage:
                - {op}:
                    {option}
            """, dir: TestData.TempDir());
        Assert.That(error, Is.TypeOf<ConfigException>());
        Assert.That(error.Message, Does.StartWith($"DataLoader.Train.dataset.transform_ops.1.{op}.{key} (").And.Contain(
            "px is beyond the largest output side supported (16384 px); classification inputs are 224-1024 px, e.g. " + key + ": 224"));
    }

    static DataLoaderFactory WithMemory(long bytes) => new(DataCatalog.CreateRegistry()) { AvailableMemoryBytes = () => bytes };

    [Test]
    public void A_batch_tensor_larger_than_the_available_memory_is_refused_naming_both_keys()
    {
        // 10 images of 3 x 1000 x 2000 float32: 240,000,000 bytes.
        string dir = TestData.ImageSet(10, 2);
        string ops = """
                - DecodeImage:
                - RandCropImage:
                    size: [2000, 1000]
            """;
        var config = TestData.Loader(TestData.LoaderYaml(dir, ops, batchSize: 64));

        var error = Assert.Throws<ConfigException>(() => WithMemory(200_000_000).Build(config, 2, 1, _ => { }))!;
        Assert.That(error.Message, Is.EqualTo(
            "DataLoader.Train.sampler.batch_size: a batch of 10 images of 3 x 1000 x 2000 float32 needs 228.9 MiB, more than the 190.7 MiB of memory available; " +
            "lower DataLoader.Train.sampler.batch_size or DataLoader.Train.dataset.transform_ops.1.RandCropImage.size"));
        using var fits = WithMemory(240_000_000).Build(config, 2, 1, _ => { });
        Assert.That(fits.BatchCount, Is.EqualTo(1), "a batch holds at most the data set, so batch_size 64 over 10 images needs 10 images' worth");
    }

    [Test]
    public void Resize_short_bounds_the_batch_from_below_and_the_last_sized_op_decides()
    {
        string dir = TestData.ImageSet(4, 2);
        string resizeOnly = """
                - DecodeImage:
                - ResizeImage:
                    resize_short: 10000
            """;
        var error = Assert.Throws<ConfigException>(() => WithMemory(1L << 30).Build(TestData.Loader(TestData.LoaderYaml(dir, resizeOnly)), 2, 1, _ => { }))!;
        Assert.That(error.Message, Is.EqualTo(
            "DataLoader.Train.sampler.batch_size: a batch of 4 images of 3 x 10000 x 10000 float32 needs at least 4.5 GiB, more than the 1.0 GiB of memory available; " +
            "lower DataLoader.Train.sampler.batch_size or DataLoader.Train.dataset.transform_ops.1.ResizeImage.resize_short"));

        string thenCrop = resizeOnly + "\n" + """
                - CropImage:
                    size: 8
            """;
        using var loader = WithMemory(1L << 20).Build(TestData.Loader(TestData.LoaderYaml(dir, thenCrop)), 2, 1, _ => { });
        Assert.That(loader.BatchCount, Is.EqualTo(1), "the crop after the resize sets the batch's size: 4 x 3 x 8 x 8 floats fit in 1 MiB");
    }

}

public sealed class InferPipelineTests
{
    [Test]
    public void Infer_transforms_turn_one_image_into_chw_floats()
    {
        var factory = new DataLoaderFactory(DataCatalog.CreateRegistry());
        var section = TestData.Section("""
            transforms:
              - DecodeImage:
                  to_rgb: True
              - ResizeImage:
                  resize_short: 6
                  interpolation: INTER_AREA
              - CropImage:
                  size: 4
              - NormalizeImage:
                  scale: 1.0/255.0
                  mean: [0, 0, 0]
                  std: [1, 1, 1]
              - ToCHWImage:
            """, "Infer");
        var pipeline = factory.BuildPipeline(section.OptionalNamedList("transforms")!, "Infer.transforms",
            new DataBuildContext(factory.Registry, 0, _ => { }));
        using var image = TestData.Image(12, 6, (_, _, c) => (byte)(c == 0 ? 255 : 0));
        var (chw, c, h, w) = pipeline.Process(TestData.Png(image), "a.png", new Random(0));
        Assert.That((c, h, w), Is.EqualTo((3, 4, 4)));
        Assert.That(chw.Take(16), Has.All.EqualTo(0f));
        Assert.That(chw.Skip(32), Has.All.EqualTo(1f));
    }
}
