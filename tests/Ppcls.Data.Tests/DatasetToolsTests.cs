using Ppcls.Core;
using Ppcls.Data.Datasets;
using Ppcls.Data.Tools;

namespace Ppcls.Data.Tests;

public sealed class DatasetToolsTests
{
    static string ClassTree(params (string Class, int Images)[] classes)
    {
        string root = TestData.TempDir();
        foreach (var (name, count) in classes)
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (int i = 0; i < count; i++) File.WriteAllBytes(Path.Combine(root, name, $"img{i}.jpg"), [0]);
            File.WriteAllText(Path.Combine(root, name, "notes.txt"), "not an image");
        }
        return root;
    }

    [Test]
    public void Split_numbers_classes_in_sorted_order_and_sends_a_fifth_to_val()
    {
        string root = ClassTree(("zebra", 5), ("apple", 10));
        var result = ClassFolderSplitter.Split(root, 0.2, 1);
        Assert.That(result, Is.EqualTo(new ClassFolderSplitter.Result(2, 12, 3)));
        Assert.That(File.ReadAllLines(Path.Combine(root, "label_list.txt")), Is.EqualTo(new[] { "0 apple", "1 zebra" }));
        var train = File.ReadAllLines(Path.Combine(root, "train_list.txt"));
        var val = File.ReadAllLines(Path.Combine(root, "val_list.txt"));
        Assert.That(train.Concat(val).Order(), Is.EqualTo(
            Enumerable.Range(0, 10).Select(i => $"apple/img{i}.jpg 0").Concat(Enumerable.Range(0, 5).Select(i => $"zebra/img{i}.jpg 1")).Order()));
        Assert.That(val.Count(l => l.EndsWith(" 0")), Is.EqualTo(2));
        Assert.That(Directory.GetFiles(root, "*.tmp", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public void Split_is_deterministic_for_a_seed_and_differs_across_seeds()
    {
        string root = ClassTree(("a", 20), ("b", 20));
        ClassFolderSplitter.Split(root, 0.3, 5);
        string first = File.ReadAllText(Path.Combine(root, "val_list.txt"));
        ClassFolderSplitter.Split(root, 0.3, 5);
        Assert.That(File.ReadAllText(Path.Combine(root, "val_list.txt")), Is.EqualTo(first));
        ClassFolderSplitter.Split(root, 0.3, 6);
        Assert.That(File.ReadAllText(Path.Combine(root, "val_list.txt")), Is.Not.EqualTo(first));
    }

    [Test]
    public void Split_errors_are_one_clear_line()
    {
        string empty = TestData.TempDir();
        Assert.That(() => ClassFolderSplitter.Split(Path.Combine(empty, "nope"), 0.2, 0),
            Throws.InstanceOf<PpclsUserException>().With.Message.Contains("does not exist"));
        Assert.That(() => ClassFolderSplitter.Split(empty, 0.2, 0),
            Throws.InstanceOf<PpclsUserException>().With.Message.Contains("no class folders"));
        string noImages = ClassTree(("a", 0));
        Assert.That(() => ClassFolderSplitter.Split(noImages, 0.2, 0),
            Throws.InstanceOf<PpclsUserException>().With.Message.Contains("no images").And.Message.Not.Contains("\n"));
    }

    [Test]
    public void Make_demo_writes_images_and_lists_that_load_as_an_imagenet_dataset()
    {
        string dir = TestData.TempDir();
        var result = DemoDataMaker.Make(dir, 3, 5, 32, 1);
        Assert.That(result, Is.EqualTo(new DemoDataMaker.Result(3, 12, 3, Path.Combine(dir, "images"))));
        Assert.That(Directory.GetFiles(Path.Combine(dir, "images"), "*.jpg"), Has.Length.EqualTo(15));
        Assert.That(File.ReadAllLines(Path.Combine(dir, "label_list.txt")), Is.EqualTo(new[] { "0 red_circle", "1 green_square", "2 blue_triangle" }));
        var train = ImageNetDataset.Load(dir, Path.Combine(dir, "train_list.txt"), null, false, 3, BadImagePolicy.Error);
        var val = ImageNetDataset.Load(dir, Path.Combine(dir, "val_list.txt"), null, false, 3, BadImagePolicy.Error);
        Assert.That((train.Count, val.Count), Is.EqualTo((12, 3)));
        Assert.That(val.Labels, Is.EqualTo(new long[] { 0, 1, 2 }));
        using var image = OpenCvSharp.Cv2.ImRead(train.Describe(0));
        Assert.That((image.Width, image.Height), Is.EqualTo((32, 32)));
    }

    [Test]
    public void Make_demo_is_byte_identical_for_a_seed_and_differs_across_seeds()
    {
        string a = TestData.TempDir(), b = TestData.TempDir(), c = TestData.TempDir();
        DemoDataMaker.Make(a, 2, 3, 24, 9);
        DemoDataMaker.Make(b, 2, 3, 24, 9);
        DemoDataMaker.Make(c, 2, 3, 24, 10);
        string file = Path.Combine("images", "green_square_0001.jpg");
        Assert.That(File.ReadAllBytes(Path.Combine(b, file)), Is.EqualTo(File.ReadAllBytes(Path.Combine(a, file))));
        Assert.That(File.ReadAllBytes(Path.Combine(c, file)), Is.Not.EqualTo(File.ReadAllBytes(Path.Combine(a, file))));
    }

    [Test]
    public void Make_demo_rejects_out_of_range_options()
    {
        Assert.That(() => DemoDataMaker.Make(TestData.TempDir(), 1, 5, 32, 0), Throws.InstanceOf<PpclsUserException>().With.Message.Contains("--classes"));
        Assert.That(() => DemoDataMaker.Make(TestData.TempDir(), 3, 1, 32, 0), Throws.InstanceOf<PpclsUserException>().With.Message.Contains("--per-class"));
    }

    [Test]
    public void A_class_folder_dataset_without_a_map_numbers_the_folders_in_order_and_writes_the_map()
    {
        string root = ClassTree(("zebra", 2), ("apple", 3), ("empty", 0));
        var notices = new List<string>();
        var dataset = ClassFolderDataset.Load(root, Path.Combine(root, "label_list.txt"), 2, BadImagePolicy.Error, notices.Add);

        Assert.That(File.ReadAllLines(Path.Combine(root, "label_list.txt")), Is.EqualTo(new[] { "0 apple", "1 zebra" }));
        Assert.That(dataset.Labels, Is.EqualTo(new long[] { 0, 0, 0, 1, 1 }));
        Assert.That(dataset.Describe(3), Is.EqualTo(Path.Combine(root, "zebra", "img0.jpg")));
        Assert.That(notices.Single(), Does.Contain("wrote the label map"));
    }

    [Test]
    public void A_class_folder_dataset_follows_an_existing_map_so_val_keeps_the_train_ids()
    {
        string train = ClassTree(("apple", 1), ("pear", 1), ("zebra", 1));
        string map = Path.Combine(train, "label_list.txt");
        File.WriteAllLines(map, ["0 zebra", "1 pear", "2 apple"]);
        string val = ClassTree(("apple", 2), ("zebra", 1)); // no pear in val

        var dataset = ClassFolderDataset.Load(val, map, 3, BadImagePolicy.Error, _ => { });

        Assert.That(dataset.Labels, Is.EqualTo(new long[] { 2, 2, 0 }));
        Assert.That(File.Exists(Path.Combine(val, "label_list.txt")), Is.False, "an existing map is read, not rewritten");
    }

    [Test]
    public void A_class_folder_dataset_names_the_map_and_what_to_do_when_they_disagree()
    {
        string root = ClassTree(("apple", 1), ("kiwi", 1));
        string map = Path.Combine(root, "label_list.txt");
        File.WriteAllLines(map, ["0 apple"]);
        Assert.That(() => ClassFolderDataset.Load(root, map, 2, BadImagePolicy.Error, _ => { }),
            Throws.InstanceOf<PpclsUserException>().With.Message.Contains($"{map}: class folder kiwi").And.Message.Contains("delete the file"));

        File.WriteAllLines(map, ["0 apple", "one kiwi", "1 apple"]);
        Assert.That(() => ClassFolderDataset.Load(root, map, 2, BadImagePolicy.Error, _ => { }),
            Throws.InstanceOf<PpclsUserException>().With.Message.Contains($"{map}:2: expected 'id name'").And.Message.Contains($"{map}:3: class 'apple' is listed twice"));

        File.WriteAllLines(map, ["0 apple", "5 kiwi"]);
        Assert.That(() => ClassFolderDataset.Load(root, map, 2, BadImagePolicy.Error, _ => { }),
            Throws.InstanceOf<PpclsUserException>().With.Message.Contains("class id 5 is out of range for Arch.class_num 2; set -o Arch.class_num=6"));
    }
}
