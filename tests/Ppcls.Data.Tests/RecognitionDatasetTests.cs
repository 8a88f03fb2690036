using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Data.Datasets;

namespace Ppcls.Data.Tests;

/// <summary>VeriWild lists, read as PaddleClas reads them.</summary>
public sealed class RecognitionDatasetTests
{
    static IDataset Build(string yaml)
    {
        var section = TestData.Section(yaml, "DataLoader.Eval.Query.dataset");
        var registry = DataCatalog.CreateRegistry();
        return registry.Datasets.Get(section.RequiredString("name", "VeriWild"), section.KeyPath("name"))(section, new DataBuildContext(registry, 0, _ => { }));
    }

    [Test]
    public void A_veriwild_list_gives_labels_and_cameras_and_relabels_in_ascending_order()
    {
        string dir = TestData.ImageSet(4, 2);
        File.WriteAllLines(Path.Combine(dir, "veri.txt"), ["images/0.png 17 3", "images/1.png 5 1", "", "images/2.png 17 2", "images/3.png 9 1"]);

        var plain = (VeriWildDataset)Build($"name: VeriWild\nimage_root: {dir}\ncls_label_path: {Path.Combine(dir, "veri.txt")}\n");
        var relabelled = (VeriWildDataset)Build($"name: VeriWild\nimage_root: {dir}\ncls_label_path: {Path.Combine(dir, "veri.txt")}\nrelabel: True\n");

        Assert.That(plain.Labels, Is.EqualTo(new long[] { 17, 5, 17, 9 }));
        Assert.That(plain.Cameras, Is.EqualTo(new long[] { 3, 1, 2, 1 }));
        Assert.That(plain.Describe(2), Is.EqualTo(Path.Combine(dir, "images/2.png")));
        Assert.That(relabelled.Labels, Is.EqualTo(new long[] { 2, 0, 2, 1 }));
        Assert.That(plain.LabelSummary.ListKey, Is.EqualTo("DataLoader.Eval.Query.dataset.cls_label_path"));
    }

    [Test]
    public void A_veriwild_list_without_cameras_has_none()
    {
        string dir = TestData.ImageSet(2, 2);
        File.WriteAllLines(Path.Combine(dir, "veri.txt"), ["images/0.png 0", "images/1.png 1"]);

        var dataset = VeriWildDataset.Load(dir, Path.Combine(dir, "veri.txt"), false);

        Assert.That(dataset.Cameras, Is.Null);
        Assert.That(dataset.Labels, Is.EqualTo(new long[] { 0, 1 }));
    }

    [Test]
    public void Every_bad_veriwild_line_is_reported_with_its_file_and_line()
    {
        string dir = TestData.ImageSet(2, 2);
        string list = Path.Combine(dir, "veri.txt");
        File.WriteAllLines(list, ["images/0.png 0 1", "images/1.png x 1", "images/1.png 1 c", "images/9.png 1 1", "images/1.png", "images/0.png 0 1 7"]);

        var e = Assert.Throws<PpclsUserException>(() => VeriWildDataset.Load(dir, list, false))!;

        var lines = e.Message.Split('\n');
        Assert.That(lines[0], Is.EqualTo($"{list}: 5 problems in the VeriWild list:"));
        Assert.That(lines.Skip(1).Select(l => l.Trim()), Is.EqualTo(new[]
        {
            $"{list}:2: label 'x' is not a non-negative integer",
            $"{list}:3: camera 'c' is not an integer",
            $"{list}:4: image '{Path.Combine(dir, "images/9.png")}' does not exist",
            $"{list}:5: expected 'path label [camera]', got 'images/1.png'",
            $"{list}:6: expected 'path label [camera]', got 'images/0.png 0 1 7'",
        }));
    }
}
