using Ppcls.Core;
using Ppcls.Data.Datasets;

namespace Ppcls.Data.Tests;

public sealed class ImageNetDatasetTests
{
    [Test]
    public void A_valid_list_gives_paths_under_the_root_and_labels()
    {
        string dir = TestData.ImageSet(3, 2);
        var dataset = ImageNetDataset.Load(dir, Path.Combine(dir, "list.txt"), null, false, 2, BadImagePolicy.Error);
        Assert.That(dataset.Count, Is.EqualTo(3));
        Assert.That(dataset.Labels, Is.EqualTo(new long[] { 0, 1, 0 }));
        Assert.That(dataset.Describe(1), Is.EqualTo(Path.Combine(dir, "images/1.png")));
    }

    [Test]
    public void Every_problem_in_the_list_is_reported_at_once_with_its_line_number()
    {
        string dir = TestData.ImageSet(2, 2);
        string list = Path.Combine(dir, "bad.txt");
        File.WriteAllLines(list,
        [
            "images/0.png 0",
            "just-a-path",
            "images/1.png one",
            "",
            "images/1.png -3",
            "images/1.png 7",
            "images/missing.png 1",
        ]);
        var error = Assert.Throws<PpclsUserException>(() => ImageNetDataset.Load(dir, list, null, false, 2, BadImagePolicy.Error))!;
        Assert.That(error.Message, Does.Contain("5 problems"));
        Assert.That(error.Message, Does.Contain($"{list}:2: expected 'path label'"));
        Assert.That(error.Message, Does.Contain($"{list}:3: label 'one' is not an integer"));
        Assert.That(error.Message, Does.Contain($"{list}:5: label -3 is negative"));
        Assert.That(error.Message, Does.Contain($"{list}:6: label 7 is out of range for class_num 2"));
        Assert.That(error.Message, Does.Contain($"{list}:7: image '{Path.Combine(dir, "images/missing.png")}' does not exist"));
    }

    [Test]
    public void A_long_list_of_problems_is_capped_with_a_count_of_the_rest()
    {
        string dir = TestData.TempDir();
        string list = Path.Combine(dir, "list.txt");
        File.WriteAllLines(list, Enumerable.Range(0, 25).Select(i => $"nothing{i}.png 0"));
        var error = Assert.Throws<PpclsUserException>(() => ImageNetDataset.Load(dir, list, null, false, 1, BadImagePolicy.Error))!;
        Assert.That(error.Message, Does.Contain("25 problems").And.Contain("... and 5 more"));
        Assert.That(error.Message, Does.Contain($"{list}:20:").And.Not.Contain($"{list}:21:"));
    }

    [Test]
    public void Relabel_maps_sparse_labels_to_consecutive_ids_in_ascending_order()
    {
        string dir = TestData.ImageSet(3, 3);
        string list = Path.Combine(dir, "sparse.txt");
        File.WriteAllLines(list, ["images/0.png 40", "images/1.png 7", "images/2.png 40"]);
        var dataset = ImageNetDataset.Load(dir, list, null, true, 2, BadImagePolicy.Error);
        Assert.That(dataset.Labels, Is.EqualTo(new long[] { 1, 0, 1 }));
    }

    [Test]
    public void A_custom_delimiter_splits_paths_that_contain_spaces()
    {
        string dir = TestData.ImageSet(1, 1);
        File.Move(Path.Combine(dir, "images/0.png"), Path.Combine(dir, "images/a b.png"));
        string list = Path.Combine(dir, "tabs.txt");
        File.WriteAllLines(list, ["images/a b.png\t0"]);
        var dataset = ImageNetDataset.Load(dir, list, "\t", false, 1, BadImagePolicy.Error);
        Assert.That(dataset.Describe(0), Does.EndWith("a b.png"));
    }
}
