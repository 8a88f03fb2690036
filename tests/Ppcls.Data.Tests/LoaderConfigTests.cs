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
