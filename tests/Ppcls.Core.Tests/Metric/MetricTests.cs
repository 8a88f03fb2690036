using Ppcls.Core.Config;
using Ppcls.Core.Metric;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Metric;

public sealed class MetricTests
{
    // 4 samples, 6 classes. Rank of the true class: 1st, 3rd, 6th, 2nd.
    static Tensor Logits() => tensor(new float[]
    {
        9, 1, 2, 3, 4, 5,   // label 0: top-1
        1, 9, 8, 2, 3, 4,   // label 3: 2 > ... order 1,2,5,4,3 -> rank 5
        6, 5, 4, 3, 2, 1,   // label 5: last
        1, 2, 3, 4, 6, 5,   // label 5: 2nd
    }).reshape(4, 6);

    static Tensor Labels() => tensor(new long[] { 0, 3, 5, 5 }).reshape(4, 1);

    static MetricSet? Build(string yaml, Action<string>? warn = null) =>
        MetricFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "Metric").OptionalNamedList("Eval")!,
            _ => { }, warn ?? (_ => { }));

    [Test]
    public void TopkAcc_counts_labels_among_the_k_highest_logits()
    {
        using var scope = NewDisposeScope();
        var values = new TopkAccuracy([1, 2, 5], _ => { }).Compute(Logits(), Labels());

        Assert.That(values["top1"], Is.EqualTo(0.25));
        Assert.That(values["top2"], Is.EqualTo(0.5));
        Assert.That(values["top5"], Is.EqualTo(0.75));
    }

    [Test]
    public void TopkAcc_reads_a_soft_target_by_its_largest_class()
    {
        using var scope = NewDisposeScope();
        var soft = tensor(new float[]
        {
            0.7f, 0, 0, 0.3f, 0, 0,
            0, 0, 0.4f, 0.6f, 0, 0,
            0, 0, 0, 0, 0, 1,
            0, 0, 0, 0, 0.2f, 0.8f,
        }).reshape(4, 6);

        Assert.That(new TopkAccuracy([1], _ => { }).Compute(Logits(), soft)["top1"], Is.EqualTo(0.25));
    }

    [Test]
    public void A_k_above_the_class_count_reports_1_and_warns_once_like_PaddleClas()
    {
        using var scope = NewDisposeScope();
        var warnings = new List<string>();
        var metric = new TopkAccuracy([1, 10], warnings.Add);

        var first = metric.Compute(Logits(), Labels());
        metric.Compute(Logits(), Labels());

        Assert.That(first["top10"], Is.EqualTo(1.0));
        Assert.That(warnings, Is.EqualTo(new[] { "The output dims(6) is less than k(10), so the Top-10 metric is meaningless." }));
    }

    [Test]
    public void The_factory_reads_topk_as_a_list_or_a_single_number()
    {
        using var scope = NewDisposeScope();
        var set = Build("Eval:\n  - TopkAcc:\n      topk: [1, 5]\n")!;
        var single = Build("Eval:\n  - TopkAcc:\n      topk: 2\n")!;

        Assert.That(set.Compute(Logits(), Labels()), Is.EqualTo(new Dictionary<string, double> { ["top1"] = 0.25, ["top5"] = 0.75 }));
        Assert.That(single.Metrics.Single().Names, Is.EqualTo(new[] { "top2" }));
    }

    [Test]
    public void An_unknown_metric_lists_the_valid_names()
    {
        var e = Assert.Throws<ConfigException>(() => Build("Eval:\n  - TopKAcc:\n      topk: [1, 5]\n"))!;

        Assert.That(e.Message, Is.EqualTo("Metric.Eval.0.TopKAcc (t.yaml:3): unknown metric 'TopKAcc'; did you mean 'TopkAcc'? use one of: ATTRMetric, AccuracyScore, DistillationTopkAcc, HammingDistance, MultiLabelMAP, Recallk, TopkAcc, TprAtFpr, mAP"));
    }

    [Test]
    public void A_non_positive_k_is_rejected()
    {
        var e = Assert.Throws<ConfigException>(() => Build("Eval:\n  - TopkAcc:\n      topk: [0, 5]\n"))!;

        Assert.That(e.Message, Does.StartWith("Metric.Eval.0.TopkAcc.topk (t.yaml:3)").And.Contain("positive integer"));
    }

    [Test]
    public void Averages_are_weighted_by_batch_size()
    {
        var meters = new AverageMeterSet();
        meters.Update(new Dictionary<string, double> { ["loss"] = 2.0, ["top1"] = 0.5 }, 4);
        meters.Update(new Dictionary<string, double> { ["loss"] = 1.0, ["top1"] = 1.0 }, 2);

        Assert.That(meters.Names, Is.EqualTo(new[] { "loss", "top1" }));
        Assert.That(meters["loss"].Average, Is.EqualTo((2.0 * 4 + 1.0 * 2) / 6));
        Assert.That(meters["top1"].Average, Is.EqualTo((0.5 * 4 + 1.0 * 2) / 6));
        Assert.That(meters["loss"].Last, Is.EqualTo(1.0));
        Assert.That(meters["loss"].Count, Is.EqualTo(6));

        meters.Reset();
        Assert.That(meters["loss"].Average, Is.EqualTo(0));
        Assert.That(meters.Names, Is.EqualTo(new[] { "loss", "top1" }));
    }
}
