using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Data.Loading;

namespace Ppcls.Data.Tests;

/// <summary>PKSampler's class draw (sample_method, id_list / ratio) and ClassBalancedSampler, on sampling statistics with fixed seeds.</summary>
public sealed class ClassSamplingTests
{
    static SamplerConfig Sampler(string yaml) =>
        SamplerConfig.Read(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "s.yaml"), "DataLoader.Train.sampler"), _ => { });

    /// <summary>Classes 0..4 holding 40, 20, 20, 10 and 10 images.</summary>
    static readonly long[] Imbalanced =
        [.. Enumerable.Repeat(0L, 40), .. Enumerable.Repeat(1L, 20), .. Enumerable.Repeat(2L, 20), .. Enumerable.Repeat(3L, 10), .. Enumerable.Repeat(4L, 10)];

    /// <summary>How often each class appears in a batch over many epochs of one-class batches (P = 1), as a share.</summary>
    static double[] ClassShares(SamplerConfig sampler, long[] labels, int epochs)
    {
        var counts = new double[labels.Max() + 1];
        for (int epoch = 1; epoch <= epochs; epoch++)
            foreach (var batch in IdentityPlan.Plan(labels, sampler.BatchSize, sampler.InstancesPerClass!.Value, 5, epoch, sampler.ClassDraw))
                foreach (long cls in batch.Select(i => labels[i]).Distinct()) counts[cls]++;
        double total = counts.Sum();
        return [.. counts.Select(c => c / total)];
    }

    [Test]
    public void PKSampler_draws_classes_by_their_image_count_by_default_as_sample_avg_prob()
    {
        var sampler = Sampler("name: PKSampler\nbatch_size: 4\nsample_per_id: 4\n");

        var shares = ClassShares(sampler, Imbalanced, 200);

        Assert.That(sampler.ClassDraw!.Weighting, Is.EqualTo(ClassWeighting.SampleAverage));
        double[] expected = [0.4, 0.2, 0.2, 0.1, 0.1];
        for (int c = 0; c < 5; c++) Assert.That(shares[c], Is.EqualTo(expected[c]).Within(0.02), $"class {c}");
    }

    [Test]
    public void PKSampler_with_id_avg_prob_draws_every_class_equally()
    {
        var sampler = Sampler("name: PKSampler\nbatch_size: 4\nsample_per_id: 4\nsample_method: id_avg_prob\n");

        var shares = ClassShares(sampler, Imbalanced, 200);

        Assert.That(shares, Has.All.EqualTo(0.2).Within(0.02));
    }

    [Test]
    public void PKSampler_id_list_ranges_multiply_their_classes_weight_by_ratio()
    {
        // Classes 3..4 weigh 3 each and class 0 weighs 0.5 against 1 for classes 1 and 2: shares 0.5/8.5, 1/8.5, 1/8.5, 3/8.5, 3/8.5.
        var sampler = Sampler("name: PKSampler\nbatch_size: 4\nsample_per_id: 4\nsample_method: id_avg_prob\nid_list: [3, 4, 0, 0]\nratio: [3, 0.5]\n");

        var shares = ClassShares(sampler, Imbalanced, 200);

        double[] expected = [0.5 / 8.5, 1 / 8.5, 1 / 8.5, 3 / 8.5, 3 / 8.5];
        for (int c = 0; c < 5; c++) Assert.That(shares[c], Is.EqualTo(expected[c]).Within(0.02), $"class {c}");
    }

    [Test]
    public void PKSampler_batches_hold_p_distinct_classes_under_weighted_draws()
    {
        var sampler = Sampler("name: PKSampler\nbatch_size: 8\nsample_per_id: 2\n");

        var batches = IdentityPlan.Plan(Imbalanced, sampler.BatchSize, 2, 5, 1, sampler.ClassDraw);

        Assert.That(batches, Has.Length.EqualTo(Imbalanced.Length / 8));
        Assert.That(batches.Select(b => b.Select(i => Imbalanced[i]).Distinct().Count()), Has.All.EqualTo(4));
        Assert.That(IdentityPlan.Plan(Imbalanced, 8, 2, 5, 1, sampler.ClassDraw), Is.EqualTo(batches), "same seed and epoch, same plan");
    }

    [TestCase("id_list: [0, 1, 2]\nratio: [2]", "DataLoader.Train.sampler.id_list", "needs two ids (start, end) per ratio")]
    [TestCase("id_list: [3, 1]\nratio: [2]", "DataLoader.Train.sampler.id_list", "start must not exceed end")]
    [TestCase("sample_method: by_class", "DataLoader.Train.sampler.sample_method", "sample_avg_prob")]
    public void A_bad_class_draw_option_is_refused_naming_its_key(string options, string key, string message)
    {
        var e = Assert.Throws<ConfigException>(() => Sampler($"name: PKSampler\nbatch_size: 4\nsample_per_id: 2\n{options}\n"))!;

        Assert.That(e.Message, Does.Contain(key).And.Contain(message));
    }

    [Test]
    public void ClassBalancedSampler_sees_every_class_about_equally_often_and_keeps_the_epoch_length()
    {
        var sampler = Sampler("name: ClassBalancedSampler\nbatch_size: 16\ndrop_last: False\n");
        var counts = new double[5];
        int images = 0;

        for (int epoch = 1; epoch <= 50; epoch++)
        {
            var batches = ClassBalancedPlan.Plan(Imbalanced, sampler.BatchSize, sampler.DropLast, 9, epoch);
            Assert.That(batches.Sum(b => b.Length), Is.EqualTo(Imbalanced.Length), "an epoch holds as many samples as the data set");
            Assert.That(batches.Take(batches.Length - 1).Select(b => b.Length), Has.All.EqualTo(16));
            foreach (int i in batches.SelectMany(b => b)) { counts[Imbalanced[i]]++; images++; }
        }

        Assert.That(sampler.Kind, Is.EqualTo(SamplerKind.ClassBalanced));
        Assert.That(counts.Select(c => c / images), Has.All.EqualTo(0.2).Within(0.015), "class 0 has 4x the images of class 3 but the same share");
        Assert.That(ClassBalancedPlan.Plan(Imbalanced, 16, true, 9, 1).Select(b => b.Length), Has.All.EqualTo(16), "drop_last keeps whole batches");
        var first = ClassBalancedPlan.Plan(Imbalanced, 16, false, 9, 1);
        Assert.That(ClassBalancedPlan.Plan(Imbalanced, 16, false, 9, 1), Is.EqualTo(first), "same seed and epoch, same plan");
    }
}
