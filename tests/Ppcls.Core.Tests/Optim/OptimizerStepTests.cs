using Ppcls.Core.Optim;
using TorchSharp.Modules;
using static Ppcls.Core.Tests.Optim.OptimizerTestKit;

namespace Ppcls.Core.Tests.Optim;

/// <summary>Two optimizer steps on a vector parameter, against Paddle's update rules written out by hand.</summary>
public sealed class OptimizerStepTests
{
    const double Tol = 1e-5;
    static readonly double[] W0 = [1.0, -2.0, 0.5];
    static readonly double[] G = [0.3, -0.1, 2.0];

    static (Parameter W, TrainingOptimizer Optimizer) Setup(string yaml, double lr)
    {
        var w = Vector(W0.Select(v => (float)v).ToArray());
        return (w, OptimizerFactory.Build(OptimizerYaml(yaml), [("w", w)], null, lr, _ => { }));
    }

    static void TwoSteps(Parameter w, TrainingOptimizer o, double lr2)
    {
        GradientIs(w, G);
        o.Step();
        o.ZeroGrad();
        o.SetLearningRate(lr2);
        GradientIs(w, G);
        o.Step();
    }

    [Test]
    public void Momentum_with_L2_matches_Paddle_velocity_update()
    {
        var (w, o) = Setup("name: Momentum\nmomentum: 0.9\nregularizer:\n  name: L2\n  coeff: 0.1\n", 0.5);
        using var _ = o;
        TwoSteps(w, o, 0.25);

        var expected = new double[3];
        for (int i = 0; i < 3; i++)
        {
            double p = W0[i], v = 0;
            v = 0.9 * v + (G[i] + 0.1 * p); p -= 0.5 * v;
            v = 0.9 * v + (G[i] + 0.1 * p); p -= 0.25 * v;
            expected[i] = p;
        }
        Assert.That(Values(w), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void Nesterov_momentum_matches_Paddle_update()
    {
        var (w, o) = Setup("name: Momentum\nmomentum: 0.9\nuse_nesterov: True\n", 0.5);
        using var _ = o;
        TwoSteps(w, o, 0.25);

        var expected = new double[3];
        for (int i = 0; i < 3; i++)
        {
            double p = W0[i], v = 0;
            v = 0.9 * v + G[i]; p -= 0.5 * (G[i] + 0.9 * v);
            v = 0.9 * v + G[i]; p -= 0.25 * (G[i] + 0.9 * v);
            expected[i] = p;
        }
        Assert.That(Values(w), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void Adam_with_L2_matches_Paddle_bias_corrected_update()
    {
        var (w, o) = Setup("name: Adam\nbeta1: 0.9\nbeta2: 0.99\nepsilon: 0.001\nweight_decay: 0.01\n", 0.1);
        using var _ = o;
        TwoSteps(w, o, 0.05);

        var expected = new double[3];
        for (int i = 0; i < 3; i++)
        {
            double p = W0[i], m = 0, v = 0;
            foreach (var (t, lr) in new[] { (1, 0.1), (2, 0.05) })
            {
                double g = G[i] + 0.01 * p;
                m = 0.9 * m + 0.1 * g;
                v = 0.99 * v + 0.01 * g * g;
                // Paddle's form: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); p -= lr_t m / (sqrt(v) + eps sqrt(1 - b2^t)).
                double c2 = Math.Sqrt(1 - Math.Pow(0.99, t));
                p -= lr * c2 / (1 - Math.Pow(0.9, t)) * m / (Math.Sqrt(v) + 0.001 * c2);
            }
            expected[i] = p;
        }
        Assert.That(Values(w), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void AdamW_decays_the_weights_decoupled_from_the_gradient()
    {
        var (w, o) = Setup("name: AdamW\nbeta1: 0.9\nbeta2: 0.999\nepsilon: 0.00000001\nweight_decay: 0.05\n", 0.1);
        using var _ = o;
        TwoSteps(w, o, 0.05);

        var expected = new double[3];
        for (int i = 0; i < 3; i++)
        {
            double p = W0[i], m = 0, v = 0;
            foreach (var (t, lr) in new[] { (1, 0.1), (2, 0.05) })
            {
                p *= 1 - lr * 0.05;
                m = 0.9 * m + 0.1 * G[i];
                v = 0.999 * v + 0.001 * G[i] * G[i];
                double mHat = m / (1 - Math.Pow(0.9, t)), vHat = v / (1 - Math.Pow(0.999, t));
                p -= lr * mHat / (Math.Sqrt(vHat) + 1e-8);
            }
            expected[i] = p;
        }
        Assert.That(Values(w), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void RMSProp_matches_Paddle_with_epsilon_inside_the_root_and_lr_in_the_momentum()
    {
        var (w, o) = Setup("name: RMSProp\nrho: 0.9\nmomentum: 0.5\nepsilon: 0.01\nweight_decay: 0.1\n", 0.01);
        using var _ = o;
        TwoSteps(w, o, 0.02);

        var expected = new double[3];
        for (int i = 0; i < 3; i++)
        {
            double p = W0[i], ms = 0, mom = 0;
            foreach (var lr in new[] { 0.01, 0.02 })
            {
                double g = G[i] + 0.1 * p;
                ms = 0.9 * ms + 0.1 * g * g;
                mom = 0.5 * mom + lr * g / Math.Sqrt(ms + 0.01);
                p -= mom;
            }
            expected[i] = p;
        }
        Assert.That(Values(w), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void RMSProp_without_momentum_steps_by_the_scaled_gradient()
    {
        var (w, o) = Setup("name: RMSProp\nrho: 0.9\nmomentum: 0.0\nepsilon: 0.000001\n", 0.01);
        using var _ = o;
        GradientIs(w, G);
        o.Step();

        var expected = W0.Select((p, i) => p - 0.01 * G[i] / Math.Sqrt(0.1 * G[i] * G[i] + 1e-6)).ToArray();
        Assert.That(Values(w), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void RMSProp_state_round_trips_through_a_state_dict()
    {
        const string yaml = "name: RMSProp\nrho: 0.9\nmomentum: 0.5\nepsilon: 0.01\n";
        var (w, o) = Setup(yaml, 0.01);
        using var _ = o;
        GradientIs(w, G);
        o.Step();
        using var saved = new MemoryStream();
        ((OptimizerHelper)o.Inner).save_state_dict(new BinaryWriter(saved));

        var (w2, o2) = Setup(yaml, 0.01);
        using var __ = o2;
        saved.Position = 0;
        ((OptimizerHelper)o2.Inner).load_state_dict(new BinaryReader(saved));
        GradientIs(w2, G);
        o2.Step();

        // w2 took one step from W0, continuing the state w's first step left (ms and mom).
        double[] expected = new double[3];
        for (int i = 0; i < 3; i++)
        {
            double ms = 0.1 * G[i] * G[i], mom = 0.01 * G[i] / Math.Sqrt(ms + 0.01);
            ms = 0.9 * ms + 0.1 * G[i] * G[i];
            mom = 0.5 * mom + 0.01 * G[i] / Math.Sqrt(ms + 0.01);
            expected[i] = W0[i] - mom;
        }
        Assert.That(Values(w2), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void Clip_norm_clips_each_gradient_by_its_own_norm_before_the_step()
    {
        var (w, o) = Setup("name: SGD\nclip_norm: 1.0\n", 1.0);
        using var _ = o;
        GradientIs(w, G);
        o.Step();

        double norm = Math.Sqrt(G.Sum(g => g * g));
        var expected = W0.Select((p, i) => p - G[i] / norm).ToArray();
        Assert.That(Values(w), Is.EqualTo(expected).Within(Tol));
    }

    [Test]
    public void Global_norm_clipping_scales_all_gradients_together()
    {
        var a = Vector(0f, 0f);
        var b = Vector(0f);
        GradientIs(a, [3.0, 0.0]);
        GradientIs(b, [4.0]);

        double total = GradientClipping.ClipByGlobalNorm([a, b], 1.0);

        Assert.That(total, Is.EqualTo(5.0).Within(Tol));
        Assert.That(Values(GradOf(a)), Is.EqualTo(new[] { 0.6, 0.0 }).Within(Tol));
        Assert.That(Values(GradOf(b)), Is.EqualTo(new[] { 0.8 }).Within(Tol));
    }

    static Parameter GradOf(Parameter p) => new(p.grad!.detach().clone(), requires_grad: false);
}
