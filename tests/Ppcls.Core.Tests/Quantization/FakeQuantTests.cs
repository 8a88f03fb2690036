using Ppcls.Core.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Quantization;

/// <summary>The QAT formulas against a float64 recomputation written here from PaddleSlim's definitions.</summary>
public sealed class FakeQuantTests
{
    /// <summary>round(clip(x, -s, s) * 127 / s) * s / 127 in float64 (ties to even, as torch.round).</summary>
    static double Quantized(double x, double s) =>
        Math.Round(Math.Clamp(x, -s, s) * 127 / s, MidpointRounding.ToEven) * s / 127;

    [Test]
    public void Weights_are_quantized_per_output_channel_with_their_own_abs_max_and_pass_the_gradient_straight_through()
    {
        manual_seed(3);
        var weight = randn(3, 2, 3, 3, dtype: float64);
        weight[1].mul_(0.01); // a channel 100x smaller keeps its own resolution
        weight = weight.to(float32).requires_grad_(true);
        var quant = new ChannelWiseAbsMaxQuant(3);

        var q = quant.call(weight);

        var w = weight.detach().to(float64).data<double>().ToArray();
        var got = q.detach().to(float64).data<double>().ToArray();
        int per = 2 * 3 * 3;
        for (int c = 0; c < 3; c++)
        {
            double s = w.Skip(c * per).Take(per).Max(Math.Abs);
            Assert.That(quant.Scale[c].item<float>(), Is.EqualTo(s).Within(1e-7), $"channel {c} scale");
            for (int i = c * per; i < (c + 1) * per; i++)
                Assert.That(got[i], Is.EqualTo(Quantized(w[i], s)).Within(s * 1e-6), $"channel {c} element {i}");
        }
        Assert.That(got.Skip(per).Take(per).Distinct().Count(), Is.GreaterThan(10), "the small channel is not flushed to zero");

        var upstream = randn(3, 2, 3, 3);
        q.mul(upstream).sum().backward();
        Assert.That(weight.grad!.allclose(upstream), Is.True, "straight-through: d q / d w = 1");
    }

    [Test]
    public void Pact_clips_to_alpha_and_alpha_learns_from_the_clipped_elements()
    {
        var x = tensor(new float[] { -3.0f, -1.0f, 0.25f, 1.0f, 2.0f, 4.0f }).requires_grad_(true);
        var pact = new PactClip();
        using (no_grad()) pact.Alpha.fill_(1.5);
        var upstream = tensor(new float[] { 0.5f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f });

        var y = pact.call(x);
        y.mul(upstream).sum().backward();

        double alpha = 1.5;
        double[] xs = [-3, -1, 0.25, 1, 2, 4];
        double[] g = [0.5, 1, 2, 3, 4, 5];
        Assert.That(y.detach().data<float>().Select(v => (double)v), Is.EqualTo(xs.Select(v => Math.Clamp(v, -alpha, alpha))).Within(1e-6));
        double alphaGrad = xs.Zip(g).Sum(p => p.First > alpha ? p.Second : p.First < -alpha ? -p.Second : 0.0); // 4 + 5 - 0.5
        Assert.That(pact.Alpha.grad!.item<float>(), Is.EqualTo(alphaGrad).Within(1e-6));
        Assert.That(x.grad!.data<float>().Select(v => (double)v), Is.EqualTo(xs.Zip(g).Select(p => Math.Abs(p.First) <= alpha ? p.Second : 0.0)).Within(1e-6));
        Assert.That(new PactClip().Alpha.item<float>(), Is.EqualTo(20.0f), "PaddleSlim starts alpha at 20");
    }

    [Test]
    public void Activation_scale_is_the_bias_corrected_moving_average_of_the_batch_abs_max_and_frozen_in_eval()
    {
        var quant = new MovingAverageAbsMaxQuant();
        double rate = 0.9, state = 1, accum = 1;
        float[][] batches = [[0.5f, -2.0f, 1.0f], [3.0f, -1.0f, 0.1f], [-0.7f, 0.2f, 0.3f]];
        foreach (var batch in batches)
        {
            var x = tensor(batch);
            var y = quant.call(x);
            state = rate * state + 1;
            accum = rate * accum + batch.Max(v => Math.Abs((double)v));
            double scale = accum / state;
            Assert.That(quant.State.item<float>(), Is.EqualTo(state).Within(1e-5));
            Assert.That(quant.Accum.item<float>(), Is.EqualTo(accum).Within(1e-5));
            Assert.That(quant.Scale.item<float>(), Is.EqualTo(scale).Within(1e-5));
            Assert.That(y.data<float>().Select(v => (double)v), Is.EqualTo(batch.Select(v => Quantized(v, scale))).Within(1e-5), "quantized with the updated scale");
        }

        quant.eval();
        float before = quant.Scale.item<float>();
        var big = quant.call(tensor(new float[] { 100f, -0.05f }));
        Assert.That(quant.Scale.item<float>(), Is.EqualTo(before), "eval does not update the scale");
        Assert.That(big.data<float>().Select(v => (double)v), Is.EqualTo(new[] { Quantized(100, before), Quantized(-0.05, before) }).Within(1e-5));
    }
}
