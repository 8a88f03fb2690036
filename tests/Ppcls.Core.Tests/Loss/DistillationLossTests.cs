using Ppcls.Core.Config;
using Ppcls.Core.Loss;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Loss;

public sealed class DistillationLossTests
{
    const double Tol = 1e-5;
    static readonly double[][] S = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]];
    static readonly double[][] T = [[2.0, 1.0, 0.0], [0.5, 0.5, 2.5]];
    static readonly long[] Y = [1, 2];

    static Tensor Matrix(double[][] rows) => tensor(rows.SelectMany(r => r.Select(v => (float)v)).ToArray()).reshape(rows.Length, rows[0].Length);
    static ModelOutput Output() => new(new Dictionary<string, Tensor> { ["Teacher"] = Matrix(T), ["Student"] = Matrix(S) }, "Student");
    static Tensor Labels() => tensor(Y).reshape(2, 1);

    static double[] Softmax(double[] row, double temperature = 1)
    {
        var e = row.Select(v => Math.Exp(v / temperature)).ToArray();
        return [.. e.Select(v => v / e.Sum())];
    }

    static CombinedLoss Build(string yaml) =>
        LossFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "Loss").OptionalNamedList("Train")!, _ => { })!;

    static double Value(Tensor t) => t.item<float>();

    [Test]
    public void DistillationCELoss_is_cross_entropy_against_the_teachers_softmax_and_needs_no_labels()
    {
        using var scope = NewDisposeScope();
        var loss = Build("Train:\n  - DistillationCELoss:\n      weight: 1.0\n      model_name_pairs:\n        - [\"Student\", \"Teacher\"]\n");

        var values = loss.Compute(Output(), Labels());

        double expected = Enumerable.Range(0, 2).Average(i =>
        {
            var q = Softmax(T[i]);
            var logP = Softmax(S[i]).Select(v => Math.Log(v)).ToArray();
            return -q.Select((v, c) => v * logP[c]).Sum();
        });
        Assert.That(values.Keys, Is.EquivalentTo(new[] { "CELoss_Student_Teacher", "loss" }));
        Assert.That(Value(values["CELoss_Student_Teacher"]), Is.EqualTo(expected).Within(Tol));
        Assert.That(loss.UsesLabels, Is.False);
    }

    [Test]
    public void DistillationGTCELoss_is_the_students_cross_entropy_with_the_labels()
    {
        using var scope = NewDisposeScope();
        var values = Build("Train:\n  - DistillationGTCELoss:\n      weight: 1.0\n      model_names: [\"Student\"]\n").Compute(Output(), Labels());

        double expected = Enumerable.Range(0, 2).Average(i => -Math.Log(Softmax(S[i])[Y[i]]));
        Assert.That(Value(values["CELoss_Student"]), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void DistillationDMLLoss_is_PaddleClas_symmetric_kl_scaled_by_the_class_count()
    {
        using var scope = NewDisposeScope();
        var values = Build("Train:\n  - DistillationDMLLoss:\n      weight: 1.0\n      act: softmax\n      model_name_pairs: [[\"Student\", \"Teacher\"]]\n")
            .Compute(Output(), Labels());

        // Element-wise t * log((t + eps) / (x + eps)) * C, both directions halved, mean over N * C.
        const double eps = 1e-12;
        double sum = 0;
        for (int i = 0; i < 2; i++)
        {
            var p = Softmax(S[i]);
            var q = Softmax(T[i]);
            for (int c = 0; c < 3; c++)
                sum += (q[c] * Math.Log((q[c] + eps) / (p[c] + eps)) * 3 + p[c] * Math.Log((p[c] + eps) / (q[c] + eps)) * 3) / 2;
        }
        Assert.That(Value(values["DMLLoss_Student_Teacher_0"]), Is.EqualTo(sum / 6).Within(Tol));
    }

    [Test]
    public void DistillationKLDivLoss_is_hintons_kl_at_temperature_scaled_by_t_squared_over_n()
    {
        using var scope = NewDisposeScope();
        var values = Build("Train:\n  - DistillationKLDivLoss:\n      weight: 1.0\n      temperature: 2\n      model_name_pairs: [[\"Student\", \"Teacher\"]]\n")
            .Compute(Output(), Labels());

        double kl = 0;
        for (int i = 0; i < 2; i++)
        {
            var p = Softmax(S[i], 2);
            var q = Softmax(T[i], 2);
            kl += q.Select((v, c) => v * Math.Log(v / p[c])).Sum();
        }
        Assert.That(Value(values["loss_kldiv_Student_Teacher"]), Is.EqualTo(kl * 4 / 2).Within(Tol));
    }

    [Test]
    public void DistillationDistanceLoss_l2_is_the_mean_squared_error_under_PaddleClas_name()
    {
        using var scope = NewDisposeScope();
        var values = Build("Train:\n  - DistillationDistanceLoss:\n      weight: 1.0\n      mode: l2\n      model_name_pairs: [[\"Student\", \"Teacher\"]]\n")
            .Compute(Output(), Labels());

        double mse = Enumerable.Range(0, 2).SelectMany(i => Enumerable.Range(0, 3).Select(c => Math.Pow(S[i][c] - T[i][c], 2))).Average();
        Assert.That(Value(values["loss_l2_loss_l2_0"]), Is.EqualTo(mse).Within(Tol));
    }

    [Test]
    public void Several_terms_are_weighted_and_summed_into_loss()
    {
        using var scope = NewDisposeScope();
        var values = Build("Train:\n  - DistillationGTCELoss:\n      weight: 0.5\n      model_names: [\"Student\"]\n" +
            "  - DistillationCELoss:\n      weight: 2.0\n      model_name_pairs: [[\"Student\", \"Teacher\"]]\n").Compute(Output(), Labels());
        var gt = Build("Train:\n  - DistillationGTCELoss:\n      weight: 1.0\n      model_names: [\"Student\"]\n").Compute(Output(), Labels());
        var soft = Build("Train:\n  - DistillationCELoss:\n      weight: 1.0\n      model_name_pairs: [[\"Student\", \"Teacher\"]]\n").Compute(Output(), Labels());

        double expected = 0.5 * Value(gt["loss"]) + 2.0 * Value(soft["loss"]);
        Assert.That(Value(values["loss"]), Is.EqualTo(expected).Within(Tol));
        Assert.That(Value(values["CELoss_Student"]), Is.EqualTo(0.5 * Value(gt["loss"])).Within(Tol));
    }

    [Test]
    public void A_model_name_that_is_not_an_output_names_the_outputs_there_are()
    {
        using var scope = NewDisposeScope();
        var loss = Build("Train:\n  - DistillationCELoss:\n      weight: 1.0\n      model_name_pairs: [[\"Studnet\", \"Teacher\"]]\n");

        var e = Assert.Throws<PpclsUserException>(() => loss.Compute(Output(), Labels()))!;
        Assert.That(e.Message, Does.Contain("DistillationCELoss: the model has no output 'Studnet'; its outputs are Student, Teacher"));
    }

    [Test]
    public void Model_name_pairs_that_are_not_pairs_are_a_config_error_at_the_key()
    {
        var e = Assert.Throws<ConfigException>(() => Build("Train:\n  - DistillationDMLLoss:\n      weight: 1.0\n      model_name_pairs: [\"Student\", \"Teacher\"]\n"))!;
        Assert.That(e.Message, Does.Contain("Loss.Train.0.DistillationDMLLoss.model_name_pairs"));
        Assert.That(e.Message, Does.Contain("each pair must be two model names"));
    }
}
