using Ppcls.Core.Distributed;
using Ppcls.Core.Config;
using Ppcls.Core.Metric;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Metric;

public sealed class RetrievalMetricTests
{
    const double Tol = 1e-6;

    // Queries labelled 0, 1, 0 against gallery labels 0, 1, 1, 0. Ranked gallery labels per query:
    // q0 0 1 0 1 (relevant at ranks 1, 3), q1 0 1 1 0 (ranks 2, 3), q2 1 1 0 0 (ranks 3, 4).
    static Tensor Similarity() => tensor(new float[] { 0.9f, 0.8f, 0.1f, 0.2f, 0.9f, 0.2f, 0.8f, 0.1f, 0.1f, 0.9f, 0.8f, 0.7f }).reshape(3, 4);
    static Tensor Queries() => tensor(new long[] { 0, 1, 0 });
    static Tensor Gallery() => tensor(new long[] { 0, 1, 1, 0 });

    [Test]
    public void A_distillation_model_is_embedded_by_its_Student_features_as_PaddleClas_does()
    {
        using var scope = NewDisposeScope();
        var student = tensor(new float[] { 3, 4, 0, 2 }).reshape(2, 2);
        var teacher = tensor(new float[] { 1, 0, 0, 1 }).reshape(2, 2);
        var output = new ModelOutput(new Dictionary<string, Tensor>
        {
            ["Teacher"] = teacher, ["Teacher.features"] = teacher, ["Student"] = student, ["Student.features"] = student,
        }, "Student");

        var embedded = RetrievalOptions.Default.Embed(output).data<float>().ToArray();

        Assert.That(embedded, Is.EqualTo(new[] { 0.6f, 0.8f, 0f, 1f }).Within(1e-6), "the Student's features, L2-normalised");
        var plain = new ModelOutput(new Dictionary<string, Tensor> { ["features"] = teacher, ["logits"] = student }, "logits");
        Assert.That(RetrievalOptions.Default.Embed(plain).data<float>().ToArray(), Is.EqualTo(new[] { 1f, 0f, 0f, 1f }));
    }

    [Test]
    public void Recall_at_k_is_the_share_of_queries_with_a_match_in_their_k_nearest()
    {
        var recall = Retrieval.Recall(Similarity(), Queries(), Gallery(), null, [1, 2, 3]);

        Assert.That(recall["recall1"], Is.EqualTo(1.0 / 3).Within(Tol));
        Assert.That(recall["recall2"], Is.EqualTo(2.0 / 3).Within(Tol));
        Assert.That(recall["recall3"], Is.EqualTo(1.0).Within(Tol));
    }

    [Test]
    public void MAP_averages_precision_at_each_relevant_rank()
    {
        double ap0 = (1.0 / 1 + 2.0 / 3) / 2, ap1 = (1.0 / 2 + 2.0 / 3) / 2, ap2 = (1.0 / 3 + 2.0 / 4) / 2;

        Assert.That(Retrieval.MeanAveragePrecision(Similarity(), Queries(), Gallery(), null), Is.EqualTo((ap0 + ap1 + ap2) / 3).Within(Tol));
    }

    [Test]
    public void The_keep_mask_drops_pairs_such_as_a_query_matching_itself()
    {
        var keep = ones(3, 4, dtype: ScalarType.Bool);
        keep[0, 0] = tensor(false);

        // q0's nearest (gallery 0) is dropped: ranked 1 0 1, its only match comes second.
        Assert.That(Retrieval.Recall(Similarity(), Queries(), Gallery(), keep, [1, 2])["recall2"], Is.EqualTo(2.0 / 3).Within(Tol));
        double ap0 = 1.0 / 2, ap1 = (1.0 / 2 + 2.0 / 3) / 2, ap2 = (1.0 / 3 + 2.0 / 4) / 2;
        Assert.That(Retrieval.MeanAveragePrecision(Similarity(), Queries(), Gallery(), keep), Is.EqualTo((ap0 + ap1 + ap2) / 3).Within(Tol));
    }

    [Test]
    public void The_eval_set_queries_itself_leaving_each_image_out()
    {
        using var scope = NewDisposeScope();
        var metric = new RetrievalMetric([1], true);
        // Class 0 at 0, 10 and 175 degrees, class 1 at 90 and 100.
        float[] Point(double degrees) => [(float)Math.Cos(degrees * Math.PI / 180), (float)Math.Sin(degrees * Math.PI / 180)];
        var features = tensor(new[] { Point(0), Point(10), Point(90), Point(100), Point(175) }.SelectMany(p => p).ToArray()).reshape(5, 2);
        metric.Reset();
        metric.Add(new ModelOutput(new Dictionary<string, Tensor> { ["features"] = features * 3 }, "features"), tensor(new long[] { 0, 0, 1, 1, 0 }));

        var result = metric.Result(SingleProcess.Instance);

        // Nearest others: 0->10 (same), 10->0 (same), 90->100 (same), 100->90 (same), 175->100 (different).
        Assert.That(result["recall1"], Is.EqualTo(4.0 / 5).Within(Tol));
    }

    [Test]
    public void TPR_and_FPR_count_scores_above_the_threshold()
    {
        var (tpr, fpr) = TprAtFpr.Rates([0.9, 0.6, 0.3], [0.2, 0.7], 0.5);

        Assert.That(tpr, Is.EqualTo(2.0 / 3).Within(Tol));
        Assert.That(fpr, Is.EqualTo(0.5).Within(Tol));
    }

    [Test]
    public void TprAtFpr_reports_the_best_tpr_whose_fpr_stays_under_max_fpr()
    {
        using var scope = NewDisposeScope();
        var metric = new TprAtFpr(maxFpr: 0.0);
        double[] positive = [0.9, 0.6, 0.3], negative = [0.2, 0.7];
        var logits = tensor(positive.Concat(negative).SelectMany(p => new[] { 0f, (float)Math.Log(p / (1 - p)) }).ToArray()).reshape(5, 2);
        metric.Add(ModelOutput.Single(logits), tensor(new long[] { 1, 1, 1, 0, 0 }));

        var result = metric.Result(SingleProcess.Instance);

        // No negative above t needs t >= 0.7; there only 0.9 of the positives is above: TPR 1/3.
        Assert.That(result["tpr"], Is.EqualTo(1.0 / 3).Within(Tol));
        Assert.That(result["fpr"], Is.EqualTo(0.0));
        Assert.That(result["threshold"], Is.EqualTo(0.7).Within(2e-4));
    }

    [Test]
    public void Recallk_and_mAP_entries_build_dataset_metrics()
    {
        var section = new ConfigSection(YamlConfigReader.Read(new StringReader("Eval:\n  - Recallk:\n      topk: [1, 5]\n  - mAP: {}\n"), "t.yaml"), "Metric");
        var set = MetricFactory.Build(section.OptionalNamedList("Eval")!, _ => { }, _ => { })!;

        Assert.That(set.Metrics, Is.Empty);
        Assert.That(set.DatasetMetrics, Has.Count.EqualTo(2));
    }
}
