using Ppcls.Core.Config;
using Ppcls.Core.Loss;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Loss;

public sealed class MultiLabelLossTests
{
    const double Tol = 1e-5;
    static readonly double[][] X = [[1.5, -0.5, 0.2], [-2.0, 0.7, 3.0]];
    static readonly double[][] T = [[1, 0, 1], [0, 0, 1]];
    static readonly double[] Ratio = [0.25, 0.5, 0.8];

    static Tensor Logits() => tensor(X.SelectMany(r => r.Select(v => (float)v)).ToArray()).reshape(2, 3);
    static Tensor Targets() => tensor(T.SelectMany(r => r.Select(v => (float)v)).ToArray()).reshape(2, 3);

    /// <summary>MultiLabelDataset's [N, 2, C] target with label_ratio.</summary>
    static Tensor TargetsWithRatio() => stack([Targets(), tensor(Ratio.Select(v => (float)v).ToArray()).expand(2, 3)], 1);

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>-(t log s(x) + (1 - t) log(1 - s(x))).</summary>
    static double Bce(double x, double t) => -(t * Math.Log(Sigmoid(x)) + (1 - t) * Math.Log(1 - Sigmoid(x)));

    static CombinedLoss Build(string yaml) =>
        LossFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "Loss").OptionalNamedList("Train")!, _ => { })!;

    [Test]
    public void MultiLabelLoss_averages_binary_cross_entropy_over_every_entry()
    {
        using var scope = NewDisposeScope();
        double expected = X.SelectMany((r, i) => r.Select((x, j) => Bce(x, T[i][j]))).Average();
        Assert.That(new MultiLabelLoss(null, false, false).Compute(Logits(), Targets()).item<float>(), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void MultiLabelLoss_with_epsilon_and_size_sum_smooths_targets_and_sums_each_image_before_the_mean()
    {
        using var scope = NewDisposeScope();
        const double eps = 0.1;
        double expected = X.Select((r, i) => r.Select((x, j) => Bce(x, (1 - eps) * T[i][j] + eps / 3)).Sum()).Average();
        Assert.That(new MultiLabelLoss(eps, true, false).Compute(Logits(), Targets()).item<float>(), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void MultiLabelLoss_with_weight_ratio_weighs_positives_by_exp_1_minus_ratio_and_negatives_by_exp_ratio()
    {
        using var scope = NewDisposeScope();
        double Weighted(int i, int j) => Bce(X[i][j], T[i][j]) * Math.Exp(T[i][j] == 1 ? 1 - Ratio[j] : Ratio[j]);
        double expected = Enumerable.Range(0, 2).Select(i => Enumerable.Range(0, 3).Sum(j => Weighted(i, j))).Average();

        var loss = Build("Train:\n  - MultiLabelLoss:\n      weight: 1.0\n      weight_ratio: True\n      size_sum: True\n");

        Assert.That(loss.Compute(Logits(), TargetsWithRatio())["MultiLabelLoss"].item<float>(), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void MultiLabelLoss_with_weight_ratio_but_no_label_ratio_says_which_key_to_add()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<PpclsUserException>(() => new MultiLabelLoss(null, true, true).Compute(Logits(), Targets()))!;
        Assert.That(error.Message, Does.Contain("label_ratio: True"));
    }

    [Test]
    public void MultiLabelAsymmetricLoss_follows_the_clipped_focal_formula_summed()
    {
        using var scope = NewDisposeScope();
        const double gammaPos = 1, gammaNeg = 4, clip = 0.05;
        double Entry(double x, double t)
        {
            double p = Sigmoid(x);
            double pt = Math.Min(1 - p + clip, 1) * (1 - t) + p * t;
            return -Math.Log(Math.Max(pt, 1e-8)) * Math.Pow(1 - pt, gammaPos * t + gammaNeg * (1 - t));
        }
        double expected = X.SelectMany((r, i) => r.Select((x, j) => Entry(x, T[i][j]))).Sum();

        var loss = Build("Train:\n  - MultiLabelAsymmetricLoss:\n      weight: 1.0\n");

        Assert.That(loss.Compute(Logits(), Targets())["MultiLabelAsymmetricLoss"].item<float>(), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void MultiLabelAsymmetricLoss_without_clip_mean_reduction_and_focal_gradient_matches_its_formula_and_gradient()
    {
        using var scope = NewDisposeScope();
        var options = new AsymmetricLossOptions(GammaPos: 0, GammaNeg: 2, Clip: 0, DisableFocalLossGrad: false, Reduction: LossReduction.Mean);
        double Entry(double x, double t)
        {
            double p = Sigmoid(x);
            double pt = (1 - p) * (1 - t) + p * t;
            return -Math.Log(pt) * Math.Pow(1 - pt, 2 * (1 - t));
        }
        double expected = X.SelectMany((r, i) => r.Select((x, j) => Entry(x, T[i][j]))).Average();
        var logits = Logits().requires_grad_();
        var value = new MultiLabelAsymmetricLoss(options).Compute(logits, Targets());
        value.backward();

        Assert.That(value.item<float>(), Is.EqualTo(expected).Within(Tol));
        // Central difference of the float64 formula for entry (1, 0), a negative: the focal factor is differentiated too.
        const double h = 1e-6;
        double numeric = (Entry(X[1][0] + h, 0) - Entry(X[1][0] - h, 0)) / (2 * h) / 6;
        Assert.That(logits.grad![1, 0].item<float>(), Is.EqualTo(numeric).Within(1e-5));
    }

    [Test]
    public void DistillationMultiLabelLoss_applies_MultiLabelLoss_to_each_named_model()
    {
        using var scope = NewDisposeScope();
        var student = Logits();
        var teacher = Logits() * 2;
        var output = new ModelOutput(new Dictionary<string, Tensor> { ["Student"] = student, ["Teacher"] = teacher }, "Student");
        var loss = Build("Train:\n  - DistillationMultiLabelLoss:\n      weight: 1.0\n      model_names: [\"Student\", \"Teacher\"]\n      size_sum: True\n");

        var values = loss.Compute(output, Targets());

        double Expected(double scale) => X.Select((r, i) => r.Select((x, j) => Bce(x * scale, T[i][j])).Sum()).Average();
        Assert.That(values["MultiLabelLoss_Student"].item<float>(), Is.EqualTo(Expected(1)).Within(Tol));
        Assert.That(values["MultiLabelLoss_Teacher"].item<float>(), Is.EqualTo(Expected(2)).Within(Tol));
        Assert.That(values["loss"].item<float>(), Is.EqualTo(Expected(1) + Expected(2)).Within(Tol));
    }
    [Test]
    public void DistillationDMLLoss_with_weight_ratio_weighs_each_symmetric_KL_element_by_the_label_ratio_weight()
    {
        using var scope = NewDisposeScope();
        var student = Logits();
        var teacher = Logits() * 0.5 + 0.3;
        var output = new ModelOutput(new Dictionary<string, Tensor> { ["Student"] = student, ["Teacher"] = teacher }, "Student");
        var loss = Build("Train:\n  - DistillationDMLLoss:\n      weight: 1.0\n      weight_ratio: True\n      model_name_pairs: [[\"Student\", \"Teacher\"]]\n");

        double[] Softmax(double[] row) => [.. row.Select(v => Math.Exp(v) / row.Sum(Math.Exp))];
        double expected = 0;
        for (int i = 0; i < 2; i++)
        {
            var p = Softmax(X[i]);
            var q = Softmax([.. X[i].Select(v => v * 0.5 + 0.3)]);
            for (int j = 0; j < 3; j++)
            {
                double kl(double a, double b) => b * Math.Log((b + 1e-12) / (a + 1e-12)) * 3;
                double weight = Math.Exp(T[i][j] == 1 ? 1 - Ratio[j] : Ratio[j]);
                expected += (kl(p[j], q[j]) + kl(q[j], p[j])) / 2 * weight;
            }
        }
        expected /= 6;

        Assert.That(loss.Terms.Single().Term.UsesLabels, Is.True);
        Assert.That(loss.Compute(output, TargetsWithRatio())["DMLLoss_Student_Teacher_0"].item<float>(), Is.EqualTo(expected).Within(Tol));
    }
}
