using Ppcls.Core.Config;
using Ppcls.Core.Data;
using Ppcls.Core.Loss;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Loss;

/// <summary>CELoss's class_weights (a Ppcls addition): weighted, smoothed cross entropy against a float64 recomputation; auto weights; errors.</summary>
public sealed class ClassWeightsTests
{
    static readonly double[][] X = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [0.2, 0.1, -0.3]];
    static readonly long[] Y = [2, 0, 1];

    static Tensor Logits() => tensor(X.SelectMany(r => r.Select(v => (float)v)).ToArray()).reshape(3, 3);
    static Tensor Labels() => tensor(Y).reshape(3, 1);

    static double LogSoftmax(double[] row, int c) => row[c] - Math.Log(row.Sum(Math.Exp));

    static CombinedLoss Build(string options, LossContext context) =>
        LossFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader($"Train:\n  - CELoss: {{weight: 1.0, {options}}}\n"), "t.yaml"), "Loss")
            .OptionalNamedList("Train")!, _ => { }, context)!;

    [Test]
    public void Weighted_smoothed_cross_entropy_is_the_class_weighted_mean_of_the_smoothed_per_sample_losses()
    {
        using var scope = NewDisposeScope();
        double[] w = [0.5, 2.0, 1.25];
        const double eps = 0.1;

        var mean = new CrossEntropyLoss(eps, LossReduction.Mean, w).Compute(Logits(), Labels()).item<float>();
        var none = new CrossEntropyLoss(eps, LossReduction.None, w).Compute(Logits(), Labels()).data<float>().ToArray();

        // float64: target = (1 - eps) * one_hot + eps / C; loss_i = w[y_i] * -sum_c target_c log_softmax_c; mean = sum / sum_i w[y_i].
        double Smoothed(int i) => -Enumerable.Range(0, 3).Sum(c => ((c == Y[i] ? 1 - eps : 0) + eps / 3) * LogSoftmax(X[i], c));
        double[] expected = [.. Enumerable.Range(0, 3).Select(i => w[Y[i]] * Smoothed(i))];
        Assert.That(none, Is.EqualTo(expected).Within(1e-5));
        Assert.That(mean, Is.EqualTo(expected.Sum() / (w[2] + w[0] + w[1])).Within(1e-5));
        Assert.That(new CrossEntropyLoss(eps, LossReduction.Mean, [1, 1, 1]).Compute(Logits(), Labels()).item<float>(),
            Is.EqualTo(new CrossEntropyLoss(eps).Compute(Logits(), Labels()).item<float>()).Within(1e-6), "equal weights change nothing");
    }

    [Test]
    public void Auto_weights_are_inverse_class_frequency_of_the_training_list_averaging_one()
    {
        var logged = new List<string>();
        var counts = LabelSummary.Of("train_list.txt", [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2]).ClassCounts;
        var loss = (CrossEntropyLoss)((ClassificationTerm)Build("class_weights: auto", new LossContext(3, counts, "DataLoader.Train.dataset.cls_label_path", logged.Add)).Terms[0].Term).Loss;

        // 1/6, 1/2, 1/4 scaled by 3 / (1/6 + 1/2 + 1/4) = 36/11.
        Assert.That(loss.ClassWeights, Is.EqualTo(new[] { 6.0 / 11, 18.0 / 11, 9.0 / 11 }).Within(1e-12));
        Assert.That(loss.ClassWeights!.Average(), Is.EqualTo(1.0).Within(1e-12));
        Assert.That(logged, Has.Some.EqualTo("Loss.Train.0.CELoss.class_weights: [0.5455, 1.6364, 0.8182]"));
    }

    [Test]
    public void A_weight_list_of_another_length_than_class_num_names_the_key_and_both_counts()
    {
        var e = Assert.Throws<ConfigException>(() => Build("class_weights: [1.0, 2.0]", new LossContext(3, null, "", _ => { })))!;

        Assert.That(e.Message, Does.StartWith("Loss.Train.0.CELoss.class_weights ("));
        Assert.That(e.Message, Does.EndWith("has 2 weights but Arch.class_num is 3; give one weight per class"));
        var auto = Assert.Throws<ConfigException>(() => Build("class_weights: auto", LossContext.None))!;
        Assert.That(auto.Message, Does.EndWith("auto needs the labels of the training list, which this command does not read; give the weights as a list [w0, w1, ...]"));
        var negative = Assert.Throws<ConfigException>(() => Build("class_weights: [1.0, -2.0, 1.0]", new LossContext(3, null, "", _ => { })))!;
        Assert.That(negative.Message, Does.EndWith("weights must be finite, 0 or more, and not all 0"));
    }
}
