using Ppcls.Core.Data;

namespace Ppcls.Core.Tests.Data;

public sealed class LabelSummaryTests
{
    const string Key = "DataLoader.Train.dataset.cls_label_path";

    [Test]
    public void Counts_distinct_labels_the_largest_and_the_images_per_label()
    {
        var summary = LabelSummary.Of("train_list.txt", [3, 0, 3, 7, 0, 3]);

        Assert.That((summary.ListPath, summary.DistinctLabels, summary.MaxLabel, summary.Unlabeled), Is.EqualTo(("train_list.txt", 3, 7L, false)));
        Assert.That(summary.ClassCounts, Is.EquivalentTo(new Dictionary<long, long> { [0] = 2, [3] = 3, [7] = 1 }));
    }

    [Test]
    public void Ten_classes_under_an_ImageNet_class_num_are_reported_with_both_numbers_the_list_and_the_fix()
    {
        var summary = new LabelSummary("dataset/demo/train_list.txt", 10, 9) { ListKey = Key };

        Assert.That(summary.FewClassesWarning(1000), Is.EqualTo(
            "DataLoader.Train.dataset.cls_label_path: dataset/demo/train_list.txt has 10 distinct labels but Arch.class_num is 1000, " +
            "so 990 classifier outputs never see a training image; if this is not a subset on purpose, set -o Arch.class_num=10"));
    }

    [TestCase(5, 10)]
    [TestCase(10, 10)]
    [TestCase(600, 1000)]
    public void Half_of_class_num_or_more_is_plausible(int distinct, int classNum)
    {
        Assert.That(new LabelSummary("l.txt", distinct, distinct - 1) { ListKey = Key }.FewClassesWarning(classNum), Is.Null);
    }

    [Test]
    public void Fewer_than_half_is_reported()
    {
        Assert.That(new LabelSummary("l.txt", 4, 3) { ListKey = Key }.FewClassesWarning(10), Does.Contain("has 4 distinct labels but Arch.class_num is 10, so 6 classifier outputs"));
    }

    [Test]
    public void Sparse_labels_suggest_the_largest_label_plus_one_or_relabel()
    {
        var warning = new LabelSummary("l.txt", 3, 40) { ListKey = Key }.FewClassesWarning(100);

        Assert.That(warning, Does.EndWith("set -o Arch.class_num=41 (labels go up to 40), or relabel: True in the data set and -o Arch.class_num=3"));
    }
}
