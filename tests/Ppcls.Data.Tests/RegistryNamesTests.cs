using Ppcls.Core.Config;

namespace Ppcls.Data.Tests;

/// <summary>
/// Every name the data registries list builds through its factory, and builds what it names;
/// the op names without a case here must be the PaddleClas ops not built yet, which say so. An op
/// added to DataCatalog without a case here fails.
/// </summary>
public sealed class RegistryNamesTests
{
    static readonly DataRegistry Registry = DataCatalog.CreateRegistry();

    static DataBuildContext Context() => new(Registry, 2, _ => { });

    static readonly Dictionary<string, string> TransformOptions = new()
    {
        ["DecodeImage"] = "{}",
        ["ResizeImage"] = "{resize_short: 8}",
        ["CropImage"] = "{size: 4}",
        ["RandCropImage"] = "{size: 8}",
        ["RandFlipImage"] = "{}",
        ["NormalizeImage"] = "{}",
        ["ToCHWImage"] = "{}",
        ["RandomErasing"] = "{}",
        ["TimmAutoAugment"] = "{}",
        ["RandAugment"] = "{}",
        ["AutoAugment"] = "{}",
        ["BlurImage"] = "{}",
        ["RandomRot90"] = "{}",
        ["Padv2"] = "{size: [16, 12]}",
        ["RandomCropImage"] = "{size: 4}",
        ["Cutout"] = "{length: 4, fill_value: none}",
        ["RandAugmentV4"] = "{}",
        ["Pad"] = "{padding: 2}",
        ["RandCropImageV2"] = "{size: 4}",
        ["RandomRotation"] = "{degrees: 30}",
        ["AugMix"] = "{prob: 0.5}",
    };

    static readonly Dictionary<string, string> BatchOptions = new()
    {
        ["MixupOperator"] = "{alpha: 0.2}",
        ["CutmixOperator"] = "{alpha: 0.2}",
        ["OpSampler"] = "{MixupOperator: {alpha: 0.8, prob: 1.0}}",
    };

    /// <summary>Each name with options builds an op called that; every other listed name is a PaddleClas op not built yet.</summary>
    static void AssertEveryNameBuilds<T>(NameTable<DataFactory<T>> table, Dictionary<string, string> options, Func<T, string> nameOf)
    {
        Assert.That(table.Names, Is.SupersetOf(options.Keys));
        foreach (var (name, yaml) in options)
            Assert.That(nameOf(table.Get(name, "ops")(TestData.Section(yaml, $"ops.0.{name}"), Context())), Is.EqualTo(name));
        foreach (var name in table.Names.Except(options.Keys))
        {
            var e = Assert.Throws<ConfigException>(() => table.Get(name, "ops")(TestData.Section("{}", $"ops.0.{name}"), Context()))!;
            Assert.That(e.Message, Does.Contain($"the PaddleClas op {name} is not available in this version of Ppcls yet"));
        }
    }

    [Test]
    public void Every_listed_transform_op_builds_an_op_of_that_name_or_says_it_is_pending() =>
        AssertEveryNameBuilds(Registry.TransformOps, TransformOptions, op => op.Name);

    [Test]
    public void Every_listed_batch_op_builds_an_op_of_that_name_or_says_it_is_pending() =>
        AssertEveryNameBuilds(Registry.BatchOps, BatchOptions, op => op.Name);

    [Test]
    public void Every_listed_data_set_loads_its_images()
    {
        string listed = TestData.ImageSet(4, 2);
        string folders = TestData.TempDir();
        foreach (var (file, cls) in new[] { ("0.png", "cat"), ("1.png", "dog"), ("2.png", "cat"), ("3.png", "dog") })
        {
            Directory.CreateDirectory(Path.Combine(folders, cls));
            File.Copy(Path.Combine(listed, "images", file), Path.Combine(folders, cls, file));
        }
        string listYaml = $"{{image_root: '{listed}', cls_label_path: '{Path.Combine(listed, "list.txt")}'}}";
        var options = new Dictionary<string, string>
        {
            ["ImageNetDataset"] = listYaml,
            [DataCatalog.MultiScaleDatasetName] = listYaml,
            ["ClassFolderDataset"] = $"{{image_root: '{folders}'}}",
            ["CustomLabelDataset"] = $"{{image_root: '{listed}', sample_list_path: '{Path.Combine(listed, "list.txt")}', label_key: blur_image, delimiter: ' '}}",
            ["MultiLabelDataset"] = $"{{image_root: '{listed}', cls_label_path: '{Path.Combine(listed, "multi.txt")}'}}",
            ["VeriWild"] = listYaml,
        };
        File.WriteAllLines(Path.Combine(listed, "multi.txt"), Enumerable.Range(0, 4).Select(i => $"images/{i}.png\t{i % 2},{1 - i % 2}"));

        Assert.That(Registry.Datasets.Names, Is.EquivalentTo(options.Keys));
        foreach (var (name, yaml) in options)
            Assert.That(Registry.Datasets.Get(name, "dataset.name")(TestData.Section(yaml, "dataset"), Context()).Count, Is.EqualTo(4), name);
    }
}
