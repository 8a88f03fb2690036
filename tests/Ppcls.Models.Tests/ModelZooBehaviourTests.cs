using Ppcls.Core.Config;
using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using BatchNorm2d = Ppcls.Models.Layers.BatchNorm2d;

namespace Ppcls.Models.Tests;

/// <summary>
/// Behaviour every family shares: seeded initialisation is reproducible, BN switches between batch
/// and running statistics with the mode, a tiny train step reaches every trainable parameter, and
/// every registered variant runs at 64x64.
/// </summary>
public sealed class ModelZooBehaviourTests
{
    public static readonly string[] OnePerFamily = ModelFusionTests.OnePerFamily;

    public static IEnumerable<string> AllVariants => ModelZoo.CreateRegistry().Names;

    static nn.Module<Tensor, Tensor> Build(string name, int classNum = 1000)
    {
        var options = new ConfigMap { ["class_num"] = new ConfigScalar(classNum.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        return ModelZoo.CreateRegistry().Get(name).Create(new ConfigSection(options, "Arch"));
    }

    [TestCaseSource(nameof(OnePerFamily))]
    public void The_same_seed_builds_identical_weights(string name)
    {
        manual_seed(2024);
        using var first = Build(name, 10);
        manual_seed(2024);
        using var second = Build(name, 10);
        manual_seed(2025);
        using var other = Build(name, 10);

        var a = first.state_dict();
        var b = second.state_dict();
        var c = other.state_dict();
        Assert.Multiple(() =>
        {
            Assert.That(b.Keys, Is.EqualTo(a.Keys));
            Assert.That(a.Keys.Where(k => !Same(a[k], b[k])), Is.Empty, "tensors that differ under the same seed");
            Assert.That(a.Keys.Any(k => !Same(a[k], c[k])), Is.True, "another seed draws other weights");
        });
    }

    static bool Same(Tensor x, Tensor y) => x.shape.SequenceEqual(y.shape) && x.allclose(y, rtol: 0, atol: 0);

    [Test]
    public void BatchNorm_normalises_with_batch_statistics_in_train_mode_and_running_statistics_in_eval_mode()
    {
        manual_seed(5);
        using var model = Build("PPLCNet_x0_25", 10);
        var bn = model.modules().OfType<BatchNorm2d>().First(); // conv1.bn, right after the stem conv
        using (no_grad())
        {
            bn.RunningMean.copy_(randn(bn.Channels));
            bn.RunningVariance.copy_(rand(bn.Channels).add_(0.5));
        }
        Tensor? seenInput = null, seenOutput = null;
        var hook = bn.register_forward_hook((_, input, output) =>
        {
            seenInput?.Dispose();
            seenOutput?.Dispose();
            seenInput = input.detach().clone().DetachFromDisposeScope();
            seenOutput = output.detach().clone().DetachFromDisposeScope();
            return output;
        });
        using var image = randn(4, 3, 32, 32);
        using var runningMean = bn.RunningMean.clone();
        using var runningVar = bn.RunningVariance.clone();

        // eval: running statistics, which stay as they are
        model.eval();
        using (no_grad()) using (NewDisposeScope()) model.call(image);
        using (var evalExpected = Normalise(seenInput!, runningMean, runningVar, bn))
        {
            Assert.That(seenOutput!.allclose(evalExpected, rtol: 1e-4, atol: 1e-5), Is.True, "eval output uses running statistics");
            Assert.That(Same(bn.RunningMean, runningMean) && Same(bn.RunningVariance, runningVar), Is.True, "eval leaves the statistics alone");
        }

        // train: the batch's own statistics, and running = 0.9 running + 0.1 batch (Paddle momentum 0.9)
        model.train();
        using (no_grad()) using (NewDisposeScope()) model.call(image);
        using var batchMean = seenInput!.mean([0, 2, 3]);
        using var batchVar = seenInput!.var([0, 2, 3], unbiased: false);
        using var unbiasedVar = seenInput!.var([0, 2, 3], unbiased: true);
        using var trainExpected = Normalise(seenInput!, batchMean, batchVar, bn);
        Assert.Multiple(() =>
        {
            Assert.That(seenOutput!.allclose(trainExpected, rtol: 1e-4, atol: 1e-4), Is.True, "train output uses batch statistics");
            Assert.That(bn.RunningMean.allclose(runningMean * 0.9 + batchMean * 0.1, rtol: 1e-4, atol: 1e-5), Is.True, "running mean update");
            Assert.That(bn.RunningVariance.allclose(runningVar * 0.9 + unbiasedVar * 0.1, rtol: 1e-4, atol: 1e-5), Is.True, "running variance update");
        });
        hook.remove();
        seenInput?.Dispose();
        seenOutput?.Dispose();
    }

    static Tensor Normalise(Tensor x, Tensor mean, Tensor variance, BatchNorm2d bn)
    {
        using var scope = NewDisposeScope();
        var shape = new long[] { 1, -1, 1, 1 };
        var y = (x - mean.reshape(shape)) / (variance.reshape(shape) + bn.Epsilon).sqrt() * bn.Weight.detach().reshape(shape) + bn.Bias.detach().reshape(shape);
        return y.MoveToOuterDisposeScope();
    }

    [TestCaseSource(nameof(OnePerFamily))]
    public void A_train_step_at_64x64_gives_every_trainable_parameter_a_finite_gradient(string name)
    {
        manual_seed(3);
        using var model = Build(name, 10);
        model.train();
        // PP-LCNetV2's fused depthwise conv (`dw_conv` of a rep block) only runs after Rep(): in
        // training, as in PaddleClas, it takes no gradient.
        var repFused = model.named_modules()
            .Where(m => m.module is RepDepthwiseSeparable { UsesRep: true })
            .SelectMany(m => new[] { m.name + ".dw_conv.weight", m.name + ".dw_conv.bias" })
            .ToHashSet();

        using (var scope = NewDisposeScope())
        {
            var logits = model.call(randn(2, 3, 64, 64));
            var loss = nn.functional.cross_entropy(logits, tensor(new long[] { 1, 7 }));
            loss.backward();
        }

        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad && !repFused.Contains(p.name)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(trainable, Is.Not.Empty);
            Assert.That(trainable.Where(p => p.parameter.grad is null).Select(p => p.name), Is.Empty, "parameters without a gradient");
            Assert.That(trainable.Where(p => p.parameter.grad is { } g && !isfinite(g).all().item<bool>()).Select(p => p.name), Is.Empty, "non-finite gradients");
            Assert.That(trainable.Any(p => p.parameter.grad is { } g && g.abs().max().item<float>() > 0), Is.True, "some gradient is non-zero");
        });
    }

    [TestCaseSource(nameof(AllVariants))]
    public void Every_variant_maps_a_64x64_image_to_class_logits(string name)
    {
        using var model = Build(name, 7);
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var y = model.call(randn(1, 3, 64, 64));
        Assert.That(y.shape, Is.EqualTo(new long[] { 1, 7 }));
        Assert.That(isfinite(y).all().item<bool>(), Is.True);
    }
}
