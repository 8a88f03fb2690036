using Ppcls.Core.Config;
using Ppcls.Core.Distributed;
using Ppcls.Core.Engine;
using Ppcls.Core.Metric;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Metric;

public sealed class MultiLabelMetricTests
{
    const double Tol = 1e-9;

    // 5 images, 3 labels; outputs are logits.
    static readonly double[][] X =
    [
        [2.0, -1.0, 0.3],
        [-0.5, 0.9, 1.2],
        [0.7, 0.4, -2.0],
        [-1.5, -0.2, 0.6],
        [1.1, 2.2, -0.1],
    ];
    static readonly int[][] Y =
    [
        [1, 0, 1],
        [0, 1, 1],
        [1, 0, 0],
        [0, 1, 0],
        [1, 1, 1],
    ];

    static Tensor Logits() => tensor(X.SelectMany(r => r.Select(v => (float)v)).ToArray()).reshape(5, 3);
    static Tensor Labels() => tensor(Y.SelectMany(r => r.Select(v => (float)v)).ToArray()).reshape(5, 3);
    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    static MetricSet Build(string yaml) =>
        MetricFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "Metric").OptionalNamedList("Eval")!, _ => { }, _ => { })!;

    static IReadOnlyDictionary<string, double> WholeSet(IDatasetMetric metric)
    {
        metric.Reset();
        // Two batches, as the evaluator feeds them.
        metric.Add(ModelOutput.Single(Logits()[..3]), Labels()[..3]);
        metric.Add(ModelOutput.Single(Logits()[3..]), Labels()[3..]);
        return metric.Result(SingleProcess.Instance);
    }

    [Test]
    public void ATTRMetric_gives_mean_accuracy_and_instance_scores_as_PaddleClas_computes_them()
    {
        using var scope = NewDisposeScope();
        const double eps = 1e-20, threshold = 0.5;
        int[][] pred = [.. X.Select(r => r.Select(v => v > threshold ? 1 : 0).ToArray())];
        int n = 5, c = 3;
        double[] pos = new double[c], neg = new double[c], prec = new double[c];
        for (int j = 0; j < c; j++)
        {
            int tp = Enumerable.Range(0, n).Count(i => Y[i][j] == 1 && pred[i][j] == 1);
            int tn = Enumerable.Range(0, n).Count(i => Y[i][j] == 0 && pred[i][j] == 0);
            int fp = Enumerable.Range(0, n).Count(i => Y[i][j] == 0 && pred[i][j] == 1);
            pos[j] = tp / (Enumerable.Range(0, n).Count(i => Y[i][j] == 1) + eps);
            neg[j] = tn / (Enumerable.Range(0, n).Count(i => Y[i][j] == 0) + eps);
            prec[j] = tp / (tp + fp + eps);
        }
        double ma = Enumerable.Range(0, c).Average(j => (pos[j] + neg[j]) / 2);
        double meanPos = pos.Average();
        double labelF1 = prec.Average(p => 2 * p * meanPos / (p + meanPos + eps));
        double Inter(int i) => Enumerable.Range(0, c).Count(j => Y[i][j] == 1 && pred[i][j] == 1);
        double acc = Enumerable.Range(0, n).Average(i => Inter(i) / (Enumerable.Range(0, c).Count(j => Y[i][j] == 1 || pred[i][j] == 1) + eps));
        double iprec = Enumerable.Range(0, n).Average(i => Inter(i) / (pred[i].Sum() + eps));
        double irec = Enumerable.Range(0, n).Average(i => Inter(i) / (Y[i].Sum() + eps));

        var values = WholeSet(Build("Eval:\n  - ATTRMetric:\n").DatasetMetrics.Single());

        Assert.That(values["ma"], Is.EqualTo(ma).Within(Tol));
        Assert.That(values["label_f1"], Is.EqualTo(labelF1).Within(Tol));
        Assert.That(values["label_pos_recall"], Is.EqualTo(meanPos).Within(Tol));
        Assert.That(values["label_neg_recall"], Is.EqualTo(neg.Average()).Within(Tol));
        Assert.That(values["instance_acc"], Is.EqualTo(acc).Within(Tol));
        Assert.That(values["instance_prec"], Is.EqualTo(iprec).Within(Tol));
        Assert.That(values["instance_recall"], Is.EqualTo(irec).Within(Tol));
        Assert.That(values["instance_f1"], Is.EqualTo(2 * iprec * irec / (iprec + irec + eps)).Within(Tol));
        Assert.That(ma, Is.EqualTo(0.75).Within(1e-12), "hand count at logits > 0.5: (pos, neg) recalls (3/3, 2/2), (2/3, 2/2), (1/3, 1/2)");
    }

    [Test]
    public void ATTRMetric_reads_the_label_row_of_a_label_ratio_target_and_logs_PaddleClas_evalres_line()
    {
        using var scope = NewDisposeScope();
        var metric = new AttrMetric();
        var withRatio = stack([Labels(), full(5, 3, 0.4f)], 1);
        metric.Reset();
        metric.Add(ModelOutput.Single(Logits()), withRatio);
        var values = metric.Result(SingleProcess.Instance);

        Assert.That(values["ma"], Is.EqualTo(0.75).Within(1e-12));
        Assert.That(metric.AverageText(values), Does.StartWith("evalres: ma: 0.75000 label_f1: ").And.Contain(" instance_recall: "));
    }

    [Test]
    public void MultiLabelMAP_integral_is_the_mean_over_classes_of_average_precision_at_each_positive()
    {
        using var scope = NewDisposeScope();
        double expected = Enumerable.Range(0, 3).Average(j =>
        {
            var ranked = Enumerable.Range(0, 5).OrderByDescending(i => X[i][j]).ToList();
            int positives = Y.Count(r => r[j] == 1);
            double sum = 0;
            int hits = 0;
            for (int k = 0; k < ranked.Count; k++)
                if (Y[ranked[k]][j] == 1) sum += (double)++hits / (k + 1);
            return sum / positives;
        });

        var values = WholeSet(Build("Eval:\n  - MultiLabelMAP:\n      map_type: integral\n").DatasetMetrics.Single());

        Assert.That(values["MultiLabelMAP"], Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void MultiLabelMAP_11point_averages_the_interpolated_precision_at_eleven_recall_levels()
    {
        using var scope = NewDisposeScope();
        double expected = Enumerable.Range(0, 3).Average(j =>
        {
            var ranked = Enumerable.Range(0, 5).OrderByDescending(i => X[i][j]).ToList();
            int positives = Y.Count(r => r[j] == 1);
            var points = new List<(double Recall, double Precision)>();
            int hits = 0;
            for (int k = 0; k < ranked.Count; k++)
            {
                if (Y[ranked[k]][j] == 1) hits++;
                points.Add(((double)hits / positives, (double)hits / (k + 1)));
            }
            return Enumerable.Range(0, 11).Average(l => points.Where(p => p.Recall >= l / 10.0).Select(p => p.Precision).DefaultIfEmpty(0).Max());
        });

        var metric = new MultiLabelMap("11point");
        var values = WholeSet(metric);

        Assert.That(values["MultiLabelMAP"], Is.EqualTo(expected).Within(Tol));
        Assert.That(metric.AverageText(values), Does.Match(@"^MultiLabelMAP\(11point\): \d\.\d{3}$"));
    }

    [Test]
    public void HammingDistance_and_AccuracyScore_compare_sigmoid_predictions_with_the_labels()
    {
        using var scope = NewDisposeScope();
        int[][] pred = [.. X.Select(r => r.Select(v => Sigmoid(v) > 0.5 ? 1 : 0).ToArray())];
        double wrong = Enumerable.Range(0, 5).Sum(i => Enumerable.Range(0, 3).Count(j => pred[i][j] != Y[i][j]));
        double exact = Enumerable.Range(0, 5).Count(i => pred[i].SequenceEqual(Y[i]));

        var set = Build("Eval:\n  - HammingDistance:\n  - AccuracyScore:\n");
        var values = set.Compute(ModelOutput.Single(Logits()), Labels(), softLabels: true);
        var perSample = new AccuracyScore(perSample: true).Compute(Logits(), Labels());

        Assert.That(values["HammingDistance"], Is.EqualTo(wrong / 15).Within(Tol));
        Assert.That(values["AccuracyScore"], Is.EqualTo(1 - wrong / 15).Within(Tol));
        Assert.That(perSample["AccuracyScore"], Is.EqualTo(exact / 5).Within(Tol));
        Assert.That(set.LowerIsBetter, Is.EquivalentTo(new[] { "HammingDistance" }));
    }

    [Test]
    public void A_run_judged_by_HammingDistance_prefers_the_smaller_value()
    {
        var result = EvalResult.Of(new Dictionary<string, double> { ["HammingDistance"] = 0.2 }, ["HammingDistance"], new HashSet<string> { "HammingDistance" });
        Assert.That(result.Direction, Is.EqualTo(MetricDirection.LowerIsBetter));
        Assert.That(result.Better(0.1, 0.2), Is.True);
        Assert.That(result.Better(0.3, 0.2), Is.False);
    }

    [Test]
    public void Multi_label_metrics_are_refused_without_use_multilabel_and_TopkAcc_with_it()
    {
        var single = Assert.Throws<ConfigException>(() => MultiLabelMode.Check(false, null, "DataLoader.Eval", Build("Eval:\n  - ATTRMetric:\n"), "Metric.Eval"))!;
        Assert.That(single.Message, Does.StartWith("Metric.Eval: ATTRMetric reads 0/1 label vectors; set Global.use_multilabel: True"));
        var multi = Assert.Throws<ConfigException>(() => MultiLabelMode.Check(true, null, "DataLoader.Eval", Build("Eval:\n  - TopkAcc:\n      topk: [1, 5]\n"), "Metric.Eval"))!;
        Assert.That(multi.Message, Does.StartWith("Metric.Eval: TopkAcc reads class ids, but Global.use_multilabel is True"));
    }
    [Test]
    public void Whole_set_multi_label_metrics_are_refused_in_Metric_Train()
    {
        var error = Assert.Throws<ConfigException>(() => MultiLabelMode.CheckTrainMetrics(Build("Eval:\n  - HammingDistance:\n  - ATTRMetric:\n")))!;
        Assert.That(error.Message, Is.EqualTo("Metric.Train: ATTRMetric is measured over the whole eval set; list it under Metric.Eval (HammingDistance and AccuracyScore work in Metric.Train)"));
        Assert.DoesNotThrow(() => MultiLabelMode.CheckTrainMetrics(Build("Eval:\n  - HammingDistance:\n  - AccuracyScore:\n")));
    }
}
