using Ppcls.Core.Config;
using Ppcls.Data.BatchOps;

namespace Ppcls.Data.Tests;

public sealed class BatchOpTests
{
    /// <summary>Four 2x4x4 images whose every value equals their label (0 or 1), so a pixel's value is class 1's share.</summary>
    static MixBatch LabelValuedBatch()
    {
        long[] labels = [0, 1, 1, 0];
        var images = new float[4 * 2 * 4 * 4];
        for (int i = 0; i < 4; i++) Array.Fill(images, labels[i], i * 32, 32);
        return new MixBatch(images, 4, 2, 4, 4, labels, 3);
    }

    [Test]
    public void Mixup_mixes_pixels_and_one_hot_labels_with_the_same_lambda()
    {
        for (int seed = 0; seed < 5; seed++)
        {
            var batch = LabelValuedBatch();
            new MixupOperator(0.4).Apply(batch, new Random(seed));
            var soft = batch.SoftLabels!;
            for (int i = 0; i < 4; i++)
            {
                Assert.That(soft[i * 3] + soft[i * 3 + 1], Is.EqualTo(1f).Within(1e-6f));
                Assert.That(soft[i * 3 + 2], Is.Zero);
                Assert.That(batch.Image(i).ToArray(), Has.All.EqualTo(soft[i * 3 + 1]).Within(1e-6f));
            }
        }
    }

    [Test]
    public void Cutmix_pastes_a_box_and_sets_lambda_to_the_kept_area()
    {
        int mixed = 0;
        for (int seed = 0; seed < 10; seed++)
        {
            var batch = LabelValuedBatch();
            new CutmixOperator(1.0).Apply(batch, new Random(seed));
            var soft = batch.SoftLabels!;
            for (int i = 0; i < 4; i++)
            {
                double mean = batch.Image(i).ToArray().Average();
                Assert.That(mean, Is.EqualTo(soft[i * 3 + 1]).Within(1e-6));
                Assert.That(soft[i * 3] + soft[i * 3 + 1], Is.EqualTo(1f).Within(1e-6f));
                if (mean is > 0 and < 1) mixed++;
            }
        }
        Assert.That(mixed, Is.GreaterThan(0));
    }

    [Test]
    public void Cutmix_boxes_are_clipped_to_the_image()
    {
        for (int seed = 0; seed < 50; seed++)
        {
            var (top, left, bottom, right) = CutmixOperator.Box(7, 5, 0.1, new Random(seed));
            Assert.That(0 <= top && top <= bottom && bottom <= 7 && 0 <= left && left <= right && right <= 5, Is.True);
        }
    }

    [Test]
    public void Op_sampler_rejects_probabilities_above_one_and_unknown_ops()
    {
        var registry = DataCatalog.CreateRegistry();
        var context = new DataBuildContext(registry, 3, _ => { });
        var factory = registry.BatchOps.Get("OpSampler", "x");
        Assert.That(() => factory(TestData.Section("{MixupOperator: {alpha: 0.8, prob: 0.6}, CutmixOperator: {alpha: 1.0, prob: 0.6}}", "ops.0.OpSampler"), context),
            Throws.TypeOf<ConfigException>().With.Message.Contains("add up to 1.2"));
        Assert.That(() => factory(TestData.Section("{MixupOperater: {prob: 0.5}}", "ops.0.OpSampler"), context),
            Throws.TypeOf<ConfigException>().With.Message.Contains("ops.0.OpSampler.MixupOperater").And.Message.Contains("did you mean 'MixupOperator'"));
    }

    [Test]
    public void Op_sampler_with_full_probability_always_applies_its_op()
    {
        var registry = DataCatalog.CreateRegistry();
        var op = registry.BatchOps.Get("OpSampler", "x")(
            TestData.Section("{MixupOperator: {alpha: 0.8, prob: 1.0}}", "ops.0.OpSampler"), new DataBuildContext(registry, 3, _ => { }));
        var batch = LabelValuedBatch();
        op.Apply(batch, new Random(1));
        Assert.That(batch.SoftLabels, Is.Not.Null);
    }
}
