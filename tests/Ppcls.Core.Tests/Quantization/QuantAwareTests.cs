using Ppcls.Core.Checkpoint;
using Ppcls.Core.Models;
using Ppcls.Core.Quantization;
using Ppcls.Core.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Quantization;

public sealed class QuantAwareTests
{
    static nn.Module<Tensor, Tensor> Net() => nn.Sequential(
        ("conv", nn.Conv2d(3, 4, 3, padding: 1, bias: false)), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(4, 5)));

    /// <summary>max|x| over a tensor, and the float64 fake-quantization of each element with a scale.</summary>
    static Tensor Quantized64(Tensor x, double s)
    {
        var values = x.detach().to(float64).data<double>().Select(v => Math.Round(Math.Clamp(v, -s, s) * 127 / s, MidpointRounding.ToEven) * s / 127).ToArray();
        return tensor(values, dtype: float64).reshape(x.shape);
    }

    [Test]
    public void Every_conv_and_linear_runs_on_quantized_inputs_and_per_channel_weights()
    {
        manual_seed(5);
        var net = Net();
        var conv = (TorchSharp.Modules.Conv2d)net.named_children().First(c => c.name == "conv").module;

        var counts = QuantAware.Apply(net);
        var x = randn(2, 3, 6, 6);
        Tensor? convOut = null;
        conv.register_forward_hook((_, _, y) => { convOut = y.detach().clone(); return y; });
        net.call(x);

        Assert.That(counts, Is.EqualTo((1, 1)));
        // Expected conv: PACT (alpha 20 leaves |x| < 20 as it is), scale = (0.9 + max|x|) / 1.9 after one batch, per-channel weights.
        double scale = (0.9 + x.abs().max().item<float>()) / 1.9;
        var w = conv.weight!.detach();
        var wq = cat(Enumerable.Range(0, 4).Select(c => Quantized64(w[c], w[c].abs().max().item<float>()).unsqueeze(0)).ToArray());
        var expected = nn.functional.conv2d(Quantized64(x, scale), wq, padding: [1, 1]);
        Assert.That(convOut!.to(float64).allclose(expected, rtol: 1e-4, atol: 1e-5), Is.True,
            $"max difference {(convOut!.to(float64) - expected).abs().max().item<double>()}");
    }

    [Test]
    public void Quantizer_state_is_in_the_state_dict_under_paddleslim_names_and_alpha_trains_at_1000x()
    {
        var net = Net();
        QuantAware.Apply(net);

        var keys = WeightLoader.StateDict(net).Keys.Where(QuantAware.IsStateKey).Order(StringComparer.Ordinal);
        var rates = QuantAware.WithPactRates(net, null).LearningRateMultipliers();

        Assert.That(keys, Is.EqualTo(new[]
        {
            "conv._act_preprocess.alpha", "conv._fake_quant_input._accum", "conv._fake_quant_input._scale", "conv._fake_quant_input._state", "conv._fake_quant_weight._scale",
            "fc._act_preprocess.alpha", "fc._fake_quant_input._accum", "fc._fake_quant_input._scale", "fc._fake_quant_input._state", "fc._fake_quant_weight._scale",
        }));
        Assert.That(net.named_parameters().Select(p => p.name), Does.Contain("fc._act_preprocess.alpha"));
        Assert.That(rates, Is.EquivalentTo(new Dictionary<string, double> { ["conv._act_preprocess.alpha"] = 1000, ["fc._act_preprocess.alpha"] = 1000 }));
    }

    [Test]
    public void Float_weights_load_strictly_into_a_quantized_model_but_partial_quantizer_state_does_not()
    {
        var source = Net();
        var target = Net();
        QuantAware.Apply(target);

        var report = WeightLoader.Load(target, WeightLoader.StateDict(source), "fc.weight", strict: true, "float.safetensors");
        Assert.That(report.Loaded, Is.EqualTo(3));
        Assert.That(report.Clean, Is.True);

        var quantized = Net();
        QuantAware.Apply(quantized);
        var partial = WeightLoader.StateDict(quantized);
        partial.Remove("fc._fake_quant_input._scale");
        var e = Assert.Throws<PpclsUserException>(() => WeightLoader.Load(target, partial, "fc.weight", strict: true, "qat.safetensors"))!;
        Assert.That(e.Message, Does.Contain("missing 1 key(s): fc._fake_quant_input._scale"));
    }

    /// <summary>
    /// Learning through the quantizers (straight-through weights and inputs, PACT's alpha) on a fixed batch,
    /// in both memory formats: a short QAT run on real data is too noisy to show it (rounding flips amplify
    /// float differences), a batch the net can memorize is not.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public void A_quantized_net_fits_a_fixed_batch(bool channelsLast)
    {
        manual_seed(3);
        var net = nn.Sequential(("conv", nn.Conv2d(3, 16, 3, padding: 1)), ("relu", nn.ReLU()), ("pool", nn.AdaptiveAvgPool2d(1)),
            ("flat", nn.Flatten()), ("fc", nn.Linear(16, 4)));
        QuantAware.Apply(net);
        if (channelsLast) ChannelsLast.Apply(net);
        var images = randn(8, 3, 8, 8);
        if (channelsLast) images = ChannelsLast.Of(images);
        var labels = tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3 });
        using var sgd = optim.SGD(net.parameters(), learningRate: 0.1, momentum: 0.9);

        double Step()
        {
            sgd.zero_grad();
            var loss = nn.functional.cross_entropy(net.call(images), labels);
            loss.backward();
            sgd.step();
            return loss.item<float>();
        }

        double first = Step();
        double last = first;
        for (int i = 0; i < 100; i++) last = Step();
        Assert.That(last, Is.LessThan(first / 4), $"loss {first} -> {last}");
    }
}
