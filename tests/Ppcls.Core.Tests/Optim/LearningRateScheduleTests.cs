using Ppcls.Core.Config;
using Ppcls.Core.Optim;

namespace Ppcls.Core.Tests.Optim;

public sealed class LearningRateScheduleTests
{
    const double Tol = 1e-12;
    readonly List<string> _notices = [];

    [SetUp]
    public void ClearNotices() => _notices.Clear();

    LearningRateSchedule Build(string yaml, int epochs, int iters) =>
        LearningRateScheduleFactory.Build(ConfigYaml.Section(yaml, "Optimizer.lr"), epochs, iters, _notices.Add);

    static double Linear(double start, double end, double t, double steps) => start + (end - start) * t / steps;

    [Test]
    public void Cosine_warms_up_linearly_then_anneals_to_eta_min_over_the_remaining_iterations()
    {
        // 10 epochs x 5 iterations, 2 warm-up epochs: 10 warm-up steps, T_max = 40.
        var s = Build("name: Cosine\nlearning_rate: 0.1\nwarmup_epoch: 2\nwarmup_start_lr: 0.01\neta_min: 0.001\n", 10, 5);
        static double Cos(double t) => 0.001 + (0.1 - 0.001) * (1 + Math.Cos(Math.PI * t / 40)) / 2;

        Assert.That(s.At(0), Is.EqualTo(0.01).Within(Tol));
        Assert.That(s.At(5), Is.EqualTo(Linear(0.01, 0.1, 5, 10)).Within(Tol));
        Assert.That(s.At(9), Is.EqualTo(Linear(0.01, 0.1, 9, 10)).Within(Tol));
        Assert.That(s.At(10), Is.EqualTo(0.1).Within(Tol));
        Assert.That(s.At(30), Is.EqualTo(Cos(20)).Within(Tol));
        Assert.That(s.At(30), Is.EqualTo(0.0505).Within(Tol));
        Assert.That(s.At(49), Is.EqualTo(Cos(39)).Within(Tol));
        Assert.That(s.ByEpoch, Is.False);
    }

    [Test]
    public void Cosine_by_epoch_changes_once_per_epoch()
    {
        var s = Build("name: Cosine\nlearning_rate: 0.1\nwarmup_epoch: 2\nby_epoch: True\n", 10, 5);

        Assert.That(s.ByEpoch, Is.True);
        Assert.That(s.AtIteration(4), Is.EqualTo(0.0).Within(Tol));
        Assert.That(s.AtIteration(5), Is.EqualTo(0.05).Within(Tol));
        Assert.That(s.AtIteration(10), Is.EqualTo(0.1).Within(Tol));
        Assert.That(s.AtIteration(49), Is.EqualTo(0.1 * (1 + Math.Cos(Math.PI * 7 / 8)) / 2).Within(Tol));
    }

    [Test]
    public void Piecewise_switches_values_at_epoch_boundaries_shifted_by_warmup()
    {
        var plain = Build("name: Piecewise\ndecay_epochs: [3, 6]\nvalues: [0.1, 0.01, 0.001]\n", 8, 4);
        Assert.That(new[] { plain.At(0), plain.At(11), plain.At(12), plain.At(23), plain.At(24), plain.At(31) },
            Is.EqualTo(new[] { 0.1, 0.1, 0.01, 0.01, 0.001, 0.001 }));

        var warm = Build("name: Piecewise\ndecay_epochs: [3, 6]\nvalues: [0.1, 0.01, 0.001]\nwarmup_epoch: 1\n", 8, 4);
        Assert.That(warm.At(0), Is.EqualTo(0.0));
        Assert.That(warm.At(2), Is.EqualTo(Linear(0, 0.1, 2, 4)).Within(Tol));
        Assert.That(new[] { warm.At(4), warm.At(15), warm.At(16), warm.At(28) }, Is.EqualTo(new[] { 0.1, 0.1, 0.01, 0.001 }));
    }

    [Test]
    public void Piecewise_with_learning_rate_decays_tenfold_every_30_epochs_like_PaddleClas()
    {
        var s = Build("name: Piecewise\nlearning_rate: 0.1\n", 70, 2);

        Assert.That(s.At(59), Is.EqualTo(0.1).Within(Tol));
        Assert.That(s.At(60), Is.EqualTo(0.01).Within(Tol));
        Assert.That(s.At(120), Is.EqualTo(0.001).Within(Tol));
        Assert.That(_notices.Single(), Does.Contain("decays 10x every 30 epochs"));
    }

    [Test]
    public void Step_multiplies_by_gamma_every_step_size_epochs()
    {
        var s = Build("name: Step\nlearning_rate: 0.8\nstep_size: 2\ngamma: 0.5\n", 6, 3);

        Assert.That(new[] { s.At(0), s.At(5), s.At(6), s.At(11), s.At(12), s.At(17) },
            Is.EqualTo(new[] { 0.8, 0.8, 0.4, 0.4, 0.2, 0.2 }).Within(Tol));
    }

    [Test]
    public void MultiStepDecay_multiplies_by_gamma_at_each_milestone_after_warmup()
    {
        var s = Build("name: MultiStepDecay\nlearning_rate: 0.1\nmilestones: [2, 4]\nwarmup_epoch: 1\nwarmup_start_lr: 0.02\n", 6, 3);

        Assert.That(s.At(0), Is.EqualTo(0.02).Within(Tol));
        Assert.That(s.At(1), Is.EqualTo(Linear(0.02, 0.1, 1, 3)).Within(Tol));
        Assert.That(s.At(3), Is.EqualTo(0.1).Within(Tol));
        Assert.That(s.At(3 + 5), Is.EqualTo(0.1).Within(Tol));
        Assert.That(s.At(3 + 6), Is.EqualTo(0.01).Within(Tol));
        Assert.That(s.At(3 + 12), Is.EqualTo(0.001).Within(Tol));
    }

    [Test]
    public void Linear_decays_polynomially_to_end_lr_after_warmup()
    {
        // 4 epochs x 5 iterations, 1 warm-up epoch: 5 warm-up steps, 15 decay steps.
        var s = Build("name: Linear\nlearning_rate: 0.1\nend_lr: 0.01\npower: 2.0\nwarmup_epoch: 1\n", 4, 5);
        static double Poly(double t) => (0.1 - 0.01) * Math.Pow(1 - Math.Min(t, 15) / 15, 2) + 0.01;

        Assert.That(s.At(0), Is.EqualTo(0.0));
        Assert.That(s.At(4), Is.EqualTo(Linear(0, 0.1, 4, 5)).Within(Tol));
        Assert.That(s.At(5), Is.EqualTo(0.1).Within(Tol));
        Assert.That(s.At(12), Is.EqualTo(Poly(7)).Within(Tol));
        Assert.That(s.At(19), Is.EqualTo(Poly(14)).Within(Tol));
        Assert.That(s.At(25), Is.EqualTo(0.01).Within(Tol));
    }

    [Test]
    public void Polynomial_is_an_alias_of_Linear()
    {
        var s = Build("name: Polynomial\nlearning_rate: 0.1\n", 2, 5);

        Assert.That(s.Name, Is.EqualTo("Polynomial"));
        Assert.That(s.At(5), Is.EqualTo(0.05).Within(Tol));
    }

    [Test]
    public void ConstLR_holds_the_rate_after_warmup_and_Constant_always()
    {
        var c = Build("name: ConstLR\nlearning_rate: 0.2\nwarmup_epoch: 1\n", 3, 4);
        Assert.That(new[] { c.At(0), c.At(2), c.At(4), c.At(11) }, Is.EqualTo(new[] { 0.0, 0.1, 0.2, 0.2 }).Within(Tol));

        var k = Build("name: Constant\nlearning_rate: 0.3\n", 3, 4);
        Assert.That(new[] { k.At(0), k.At(11) }, Is.EqualTo(new[] { 0.3, 0.3 }));
    }

    [Test]
    public void Warmup_longer_than_the_run_is_clamped_with_a_notice()
    {
        var s = Build("name: Cosine\nlearning_rate: 0.1\nwarmup_epoch: 5\n", 2, 3);

        Assert.That(s.At(3), Is.EqualTo(Linear(0, 0.1, 3, 6)).Within(Tol));
        Assert.That(s.At(6), Is.EqualTo(0.1).Within(Tol));
        Assert.That(_notices, Has.One.Contains("warm-up set to 2 epochs"), string.Join(" | ", _notices));
        Assert.That(_notices, Has.Count.EqualTo(1), string.Join(" | ", _notices));
    }

    [Test]
    public void The_counter_steps_per_iteration_or_per_epoch_and_restores()
    {
        var perIter = Build("name: Step\nlearning_rate: 1.0\nstep_size: 1\ngamma: 0.5\n", 3, 2);
        perIter.OnIterationEnd();
        perIter.OnIterationEnd();
        perIter.OnEpochEnd();
        Assert.That(perIter.LastStep, Is.EqualTo(2));
        Assert.That(perIter.Current, Is.EqualTo(0.5));

        var perEpoch = Build("name: Step\nlearning_rate: 1.0\nstep_size: 1\ngamma: 0.5\nby_epoch: true\n", 3, 2);
        perEpoch.OnIterationEnd();
        perEpoch.OnEpochEnd();
        Assert.That(perEpoch.LastStep, Is.EqualTo(1));
        Assert.That(perEpoch.Current, Is.EqualTo(0.5));

        perIter.Restore(perIter.StepsAfterEpochs(2));
        Assert.That(perIter.LastStep, Is.EqualTo(4));
        Assert.That(perIter.Current, Is.EqualTo(0.25));
    }

    [Test]
    public void An_unknown_key_fails_with_a_suggestion()
    {
        var e = Assert.Throws<ConfigException>(() => Build("name: Cosine\nlearning_rate: 0.1\nwarmup_epochs: 5\n", 10, 5))!;

        Assert.That(e.Message, Does.StartWith("Optimizer.lr.warmup_epochs (t.yaml:3): unknown key; did you mean 'warmup_epoch'?"));
    }

    [Test]
    public void An_unknown_schedule_lists_the_valid_names()
    {
        var e = Assert.Throws<ConfigException>(() => Build("name: Cosin\nlearning_rate: 0.1\n", 10, 5))!;

        Assert.That(e.Message, Does.Contain("unknown learning-rate schedule 'Cosin'; did you mean 'Cosine'?"));
        Assert.That(e.Message, Does.Contain("ConstLR, Constant, Cosine, Linear, MultiStepDecay, Piecewise, Polynomial, Step"));
    }

    [Test]
    public void Piecewise_needs_one_more_value_than_boundaries()
    {
        var e = Assert.Throws<ConfigException>(() => Build("name: Piecewise\ndecay_epochs: [3, 6]\nvalues: [0.1, 0.01]\n", 8, 4))!;

        Assert.That(e.Message, Does.Contain("Optimizer.lr.values").And.Contain("needs one more item than decay_epochs"));
    }

    [Test]
    public void Step_without_gamma_names_the_missing_key()
    {
        var e = Assert.Throws<ConfigException>(() => Build("name: Step\nlearning_rate: 0.1\nstep_size: 3\n", 8, 4))!;

        Assert.That(e.Message, Does.Contain("Optimizer.lr.gamma").And.Contain("required key is missing"));
    }
}
