using Ppcls.Core.Metric;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Reporting;

public sealed class ConfusionMatrixTests
{
    /// <summary>
    /// 10 samples of 3 classes (rows true, columns predicted):
    /// cat [3 1 0], dog [1 2 1], bird [0 0 2].
    /// </summary>
    internal static ConfusionMatrix HandMade()
    {
        var m = new ConfusionMatrix(3);
        m.Add(0, 0, 3);
        m.Add(0, 1);
        m.Add(1, 0);
        m.Add(1, 1, 2);
        m.Add(1, 2);
        m.Add(2, 2, 2);
        return m;
    }

    [Test]
    public void Precision_recall_and_support_follow_from_the_counts()
    {
        var m = HandMade();

        Assert.That(m.Rows(), Is.EqualTo(new[] { new long[] { 3, 1, 0 }, [1, 2, 1], [0, 0, 2] }));
        Assert.That(m.Total, Is.EqualTo(10));
        Assert.That(m.Accuracy, Is.EqualTo(0.7).Within(1e-12));
        Assert.That(Enumerable.Range(0, 3).Select(m.Support), Is.EqualTo(new long[] { 4, 4, 2 }));
        Assert.That(Enumerable.Range(0, 3).Select(m.Predicted), Is.EqualTo(new long[] { 4, 3, 3 }));
        Assert.That(Enumerable.Range(0, 3).Select(m.Precision), Is.EqualTo(new[] { 0.75, 2.0 / 3, 2.0 / 3 }).Within(1e-12));
        Assert.That(Enumerable.Range(0, 3).Select(m.Recall), Is.EqualTo(new[] { 0.75, 0.5, 1.0 }).Within(1e-12));
    }

    [Test]
    public void A_class_never_seen_nor_predicted_has_zero_precision_and_recall_instead_of_NaN()
    {
        var m = new ConfusionMatrix(3);
        m.Add(0, 0);
        m.Add(1, 0);

        Assert.That(m.Precision(2), Is.Zero);
        Assert.That(m.Recall(2), Is.Zero);
        Assert.That(m.Support(2), Is.Zero);
        Assert.That(m.Precision(0), Is.EqualTo(0.5));
        Assert.That(m.Recall(1), Is.Zero);
    }

    [Test]
    public void A_batch_counts_each_sample_at_its_label_and_arg_max()
    {
        var m = new ConfusionMatrix(3);
        using var logits = tensor(new float[,] { { 2, 1, 0 }, { 0, 3, 1 }, { 0, 0, 5 }, { 1, 0, 0 } });
        using var labels = tensor(new long[] { 0, 1, 1, 2 });

        m.Add(logits, labels);

        Assert.That(m.Rows(), Is.EqualTo(new[] { new long[] { 1, 0, 0 }, [0, 1, 1], [1, 0, 0] }));
    }

    [Test]
    public void A_class_id_outside_the_matrix_is_refused_with_the_range()
    {
        var m = new ConfusionMatrix(3);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(3, 0));

        Assert.That(e!.Message, Does.Contain("[0, 3)"));
        Assert.That(m.Total, Is.Zero);
    }
}
