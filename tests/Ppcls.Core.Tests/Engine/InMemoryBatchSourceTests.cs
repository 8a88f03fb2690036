using Ppcls.Core.Data;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Engine;

public sealed class InMemoryBatchSourceTests
{
    [Test]
    public void Each_batch_is_the_held_batch_and_disposing_it_leaves_the_source_usable()
    {
        using var source = InMemoryBatchSource.Random([4, 3, 5, 5], softLabels: false, classNum: 7, batchCount: 3, seed: 2);

        var first = source.Epoch(1).Select(b => { using (b) return (b.Images.sum().item<float>(), b.Labels.clone()); }).ToList();
        var again = source.Epoch(2).Select(b => { using (b) return b.Images.sum().item<float>(); }).ToList();

        Assert.That(first, Has.Count.EqualTo(3));
        Assert.That(again, Is.EqualTo(first.Select(f => f.Item1)));
        Assert.That(first[0].Item2.shape, Is.EqualTo(new long[] { 4 }));
        Assert.That(first[0].Item2.max().item<long>(), Is.LessThan(7));
        Assert.That(source.SampleCount, Is.EqualTo(12));
    }

    [Test]
    public void Soft_labels_are_rows_of_class_probabilities()
    {
        using var source = InMemoryBatchSource.Random([4, 3, 5, 5], softLabels: true, classNum: 6, batchCount: 1, seed: 2);

        using var batch = source.Epoch(1).Single();

        Assert.That(batch.SoftLabels, Is.True);
        Assert.That(batch.Labels.shape, Is.EqualTo(new long[] { 4, 6 }));
        Assert.That(batch.Labels.sum(1).allclose(ones(4)), Is.True);
    }
    [Test]
    public void Random_images_keep_a_real_batchs_labels_of_any_kind()
    {
        // A label_ratio multi-label target [N, 2, C]: what the train benchmark copies from the loader's first batch.
        var labels = stack([tensor(new float[] { 1, 0, 1, 0, 1, 1 }).reshape(2, 3), full(2, 3, 0.5f)], 1);
        using var source = InMemoryBatchSource.RandomImages([2, 3, 4, 4], labels.clone(), classNum: 3, batchCount: 2, seed: 1);

        using var batch = source.Epoch(1).First();

        Assert.That(batch.Images.shape, Is.EqualTo(new long[] { 2, 3, 4, 4 }));
        Assert.That(batch.Labels.data<float>().ToArray(), Is.EqualTo(labels.data<float>().ToArray()));
        Assert.That(batch.Labels.shape, Is.EqualTo(new long[] { 2, 2, 3 }));
        Assert.That(batch.SoftLabels, Is.True);
    }
}
