using Ppcls.Core.Config;
using Ppcls.Core.Loss;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Loss;

public sealed class LossTests
{
    const double Tol = 1e-5;
    static readonly double[][] X = [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]];
    static readonly long[] Y = [2, 0];

    static Tensor Logits() => tensor(X.SelectMany(r => r.Select(v => (float)v)).ToArray()).reshape(2, 3);
    static Tensor Labels() => tensor(Y).reshape(2, 1);

    static double LogSoftmax(double[] row, int c) => row[c] - Math.Log(row.Sum(Math.Exp));

    /// <summary>-sum_c target[c] * log_softmax(row)[c].</summary>
    static double SoftCe(double[] row, double[] target) => -target.Select((t, c) => t * LogSoftmax(row, c)).Sum();

    static double[] OneHot(long y) => [.. Enumerable.Range(0, 3).Select(c => c == y ? 1.0 : 0.0)];

    static CombinedLoss Build(string yaml) =>
        LossFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "Loss").OptionalNamedList("Train")!, _ => { })!;

    static double Value(Tensor t) => t.item<float>();

    [Test]
    public void CELoss_with_epsilon_smooths_the_one_hot_target_like_Paddle_label_smooth()
    {
        using var scope = NewDisposeScope();
        var loss = new CrossEntropyLoss(0.1).Compute(Logits(), Labels());

        // (1 - 0.1) * one_hot + 0.1 / 3, e.g. [0.0333, 0.0333, 0.9333] for class 2.
        double Smoothed(int i) => SoftCe(X[i], OneHot(Y[i]).Select(t => 0.9 * t + 0.1 / 3).ToArray());
        Assert.That(Value(loss), Is.EqualTo((Smoothed(0) + Smoothed(1)) / 2).Within(Tol));
        Assert.That(Smoothed(0), Is.EqualTo(0.5076).Within(1e-4));
    }

    [Test]
    public void CELoss_without_epsilon_is_plain_cross_entropy_and_epsilon_outside_0_1_means_none()
    {
        using var scope = NewDisposeScope();
        double expected = -(LogSoftmax(X[0], 2) + LogSoftmax(X[1], 0)) / 2;

        Assert.That(Value(new CrossEntropyLoss(null).Compute(Logits(), Labels())), Is.EqualTo(expected).Within(Tol));
        Assert.That(Value(new CrossEntropyLoss(1.5).Compute(Logits(), Labels())), Is.EqualTo(expected).Within(Tol));
        Assert.That(new CrossEntropyLoss(0).Epsilon, Is.Null);
    }

    [Test]
    public void CELoss_reduction_sum_and_none()
    {
        using var scope = NewDisposeScope();
        var none = new CrossEntropyLoss(null, LossReduction.None).Compute(Logits(), Labels());
        var sum = new CrossEntropyLoss(null, LossReduction.Sum).Compute(Logits(), Labels());

        Assert.That(none.data<float>().ToArray(), Is.EqualTo(new[] { -LogSoftmax(X[0], 2), -LogSoftmax(X[1], 0) }).Within(Tol));
        Assert.That(Value(sum), Is.EqualTo(-LogSoftmax(X[0], 2) - LogSoftmax(X[1], 0)).Within(Tol));
    }

    [Test]
    public void CELoss_softmaxes_a_soft_target_without_epsilon_like_PaddleClas()
    {
        using var scope = NewDisposeScope();
        double[] t0 = [0.0, 0.3, 0.7], t1 = [1.0, 0.0, 0.0];
        var target = tensor(t0.Concat(t1).Select(v => (float)v).ToArray()).reshape(2, 3);

        static double[] Softmax(double[] v) => v.Select(x => Math.Exp(x) / v.Sum(Math.Exp)).ToArray();
        double expected = (SoftCe(X[0], Softmax(t0)) + SoftCe(X[1], Softmax(t1))) / 2;
        Assert.That(Value(new CrossEntropyLoss(null).Compute(Logits(), target)), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void MixCELoss_on_a_mixed_target_equals_the_mix_of_the_two_losses()
    {
        using var scope = NewDisposeScope();
        const double lam = 0.7;
        long[] other = [0, 1];
        var mixed = Enumerable.Range(0, 2).SelectMany(i => OneHot(Y[i]).Zip(OneHot(other[i]), (a, b) => (float)(lam * a + (1 - lam) * b))).ToArray();

        var loss = new MixCrossEntropyLoss(null).Compute(Logits(), tensor(mixed).reshape(2, 3));

        double expected = Enumerable.Range(0, 2).Average(i => lam * -LogSoftmax(X[i], (int)Y[i]) + (1 - lam) * -LogSoftmax(X[i], (int)other[i]));
        Assert.That(Value(loss), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void A_single_loss_ignores_its_weight_like_PaddleClas()
    {
        using var scope = NewDisposeScope();
        var loss = Build("Train:\n  - CELoss:\n      weight: 0.5\n      epsilon: 0.1\n").Compute(Logits(), Labels());

        Assert.That(loss.Keys, Is.EquivalentTo(new[] { "CELoss", "loss" }));
        double unweighted = Value(new CrossEntropyLoss(0.1).Compute(Logits(), Labels()));
        Assert.That(Value(loss["CELoss"]), Is.EqualTo(unweighted).Within(Tol));
        Assert.That(Value(loss["loss"]), Is.EqualTo(unweighted).Within(Tol));
    }

    [Test]
    public void Several_losses_are_weighted_and_summed_into_loss()
    {
        using var scope = NewDisposeScope();
        var loss = Build("Train:\n  - CELoss:\n      weight: 0.5\n  - MixCELoss:\n      weight: 2.0\n      epsilon: 0.1\n").Compute(Logits(), Labels());

        double ce = Value(new CrossEntropyLoss(null).Compute(Logits(), Labels()));
        double mix = Value(new MixCrossEntropyLoss(0.1).Compute(Logits(), Labels()));
        Assert.That(Value(loss["CELoss"]), Is.EqualTo(0.5 * ce).Within(Tol));
        Assert.That(Value(loss["MixCELoss"]), Is.EqualTo(2.0 * mix).Within(Tol));
        Assert.That(Value(loss["loss"]), Is.EqualTo(0.5 * ce + 2.0 * mix).Within(Tol));
    }

    [Test]
    public void The_total_loss_carries_gradients_to_the_logits()
    {
        using var scope = NewDisposeScope();
        var logits = Logits().requires_grad_();
        Build("Train:\n  - CELoss:\n      weight: 1.0\n").Compute(logits, Labels())["loss"].backward();

        // d mean(CE) / d logits = (softmax - one_hot) / N.
        double Grad(int i, int c) => (Math.Exp(LogSoftmax(X[i], c)) - OneHot(Y[i])[c]) / 2;
        Assert.That(logits.grad!.data<float>().ToArray(),
            Is.EqualTo(Enumerable.Range(0, 6).Select(k => Grad(k / 3, k % 3)).ToArray()).Within(Tol));
    }

    [Test]
    public void An_unknown_loss_lists_the_valid_names()
    {
        var e = Assert.Throws<ConfigException>(() => Build("Train:\n  - CELos:\n      weight: 1.0\n"))!;

        Assert.That(e.Message, Is.EqualTo("Loss.Train.0.CELos (t.yaml:3): unknown loss 'CELos'; did you mean 'CELoss'? use one of: CELoss, DistillationCELoss, DistillationDMLLoss, DistillationDistanceLoss, DistillationGTCELoss, DistillationKLDivLoss, DistillationMultiLabelLoss, MixCELoss, MultiLabelAsymmetricLoss, MultiLabelLoss, SupConLoss, TripletAngularMarginLoss, TripletLoss, TripletLossV2"));
    }

    [Test]
    public void A_loss_without_weight_or_with_an_unknown_option_is_rejected()
    {
        var missing = Assert.Throws<ConfigException>(() => Build("Train:\n  - CELoss:\n      epsilon: 0.1\n"))!;
        Assert.That(missing.Message, Does.StartWith("Loss.Train.0.CELoss.weight").And.Contain("required key is missing"));

        var unknown = Assert.Throws<ConfigException>(() => Build("Train:\n  - CELoss:\n      weight: 1.0\n      epsilom: 0.1\n"))!;
        Assert.That(unknown.Message, Does.Contain("Loss.Train.0.CELoss.epsilom").And.Contain("did you mean 'epsilon'?"));
    }

    [Test]
    public void An_empty_list_builds_no_loss()
    {
        Assert.That(LossFactory.Build([], _ => { }), Is.Null);
    }
}
