using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Models.LCNetV3;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using BatchNorm2d = Ppcls.Models.Layers.BatchNorm2d;

namespace Ppcls.Models.Tests;

/// <summary>
/// <see cref="ModelFusion.Fuse"/> on one small variant per family: rep branches fused, every
/// Conv+BN folded, eval outputs unchanged, BN gone from the module tree and the state dict.
/// </summary>
public sealed class ModelFusionTests
{
    public static readonly string[] OnePerFamily = ["PPLCNet_x0_25", "PPLCNetV2_small", "PPLCNetV3_x0_35", "PPHGNet_tiny", "PPHGNetV2_B0", "MobileNetV2_x0_25", "ResNet18_vd", "Res2Net50_vd_26w_4s"];

    public static IEnumerable<string> AllVariants => ModelZoo.CreateRegistry().Names;

    const int ImageSize = 64;

    static nn.Module<Tensor, Tensor> Build(string name) => ModelZoo.CreateRegistry().Get(name).Create(ConfigSection.Empty("Arch"));

    /// <summary>BN statistics and affine terms (and LAB scale/bias) far from their initial values, so a wrong fold shows.</summary>
    internal static void Randomize(nn.Module model)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var bn in model.modules().OfType<BatchNorm2d>())
        {
            long c = bn.Channels;
            bn.RunningMean.copy_(randn(c).mul_(0.5));
            bn.RunningVariance.copy_(rand(c).add_(0.5));
            bn.Weight.copy_(randn(c).mul_(0.3).add_(1.0));
            bn.Bias.copy_(randn(c).mul_(0.2));
        }
        foreach (var lab in model.modules().OfType<LearnableAffineBlock>())
        {
            lab.Scale.copy_(randn(1).mul_(0.2).add_(1.0));
            lab.Bias.copy_(randn(1).mul_(0.2));
        }
    }

    static long ParameterCount(nn.Module model) => model.parameters().Sum(p => p.numel());

    /// <summary>Runs <paramref name="input"/> in eval mode and returns a copy of the logits the caller owns.</summary>
    static Tensor Logits(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return model.call(input).MoveToOuterDisposeScope();
    }

    [TestCaseSource(nameof(OnePerFamily))]
    public void Fusion_keeps_eval_outputs_and_leaves_only_convs_linears_and_labs(string name) =>
        CheckFusion(name, ScalarType.Float32, 1e-5);

    /// <summary>
    /// Every variant, in float64: the fold is exact algebra, so outputs agree to 1e-9. (In float32
    /// the deepest rep network, PPLCNetV2_large, deviates by 6.5e-5 of its largest logit under these
    /// random BN statistics, which amplify activations block after block; in float64 it is 3e-14.)
    /// </summary>
    [TestCaseSource(nameof(AllVariants)), Explicit("every variant; run on demand")]
    public void Fusion_keeps_eval_outputs_for_every_variant(string name) => CheckFusion(name, ScalarType.Float64, 1e-9);

    static void CheckFusion(string name, ScalarType dtype, double tolerance)
    {
        manual_seed(11);
        using var model = Build(name);
        Randomize(model);
        model.to(dtype);
        model.eval();

        // What the fold must remove: per BN 2C affine parameters (C come back as the conv bias), and
        // PP-LCNetV2's rep branches entirely (their BNs included).
        // PP-LCNetV3's rep layers: every branch (kxk, 1x1, identity BN) gives way to one conv with bias.
        string[] branchNames = [".dw_conv_list.", ".conv_kxk.", ".conv_1x1.", ".identity."];
        long branchParams = model.named_parameters().Where(p => branchNames.Any(p.name.Contains)).Sum(p => p.parameter.numel());
        long fusedParams = model.modules().OfType<LearnableRepLayer>().Sum(l => l.FusedParameterCount);
        long foldedChannels = model.named_modules()
            .Where(m => m.module is BatchNorm2d && !branchNames.Any(m.name.Contains) && !m.name.EndsWith(".identity", StringComparison.Ordinal))
            .Sum(m => ((BatchNorm2d)m.module).Channels);
        long before = ParameterCount(model);
        var profileBefore = ModelProfile.Measure(model, ImageSize);
        bool hasRep = model.modules().OfType<RepDepthwiseSeparable>().Any(b => b.UsesRep);
        bool hasRepLayers = fusedParams > 0;
        long reppedMacs = profileBefore.Macs;
        if (hasRep)
        {
            // PaddleClas's re_parameterize alone (branches kept, BNs kept): MACs of the fused form.
            ((PPLCNetV2)model).Rep();
            reppedMacs = ModelProfile.Measure(model, ImageSize).Macs;
        }

        using var input = randn(2, 3, ImageSize, ImageSize, dtype: dtype);
        using var expected = Logits(model, input);

        int changed = ModelFusion.Fuse(model);

        using var actual = Logits(model, input);
        double scale = expected.abs().max().to_type(ScalarType.Float64).item<double>();
        double deviation = (actual - expected).abs().max().to_type(ScalarType.Float64).item<double>() / scale;
        TestContext.Out.WriteLine($"{name}: {changed} blocks fused, max |logit| {scale:G4}, max deviation {deviation:E2} (relative)");
        var profileAfter = ModelProfile.Measure(model, ImageSize);
        long after = ParameterCount(model);
        long convLinearLab = model.modules().Sum(m => m switch
        {
            Conv2d conv => conv.weight!.numel() + (conv.bias?.numel() ?? 0),
            Linear linear => linear.weight.numel() + (linear.bias?.numel() ?? 0),
            LearnableAffineBlock lab => lab.Scale.numel() + lab.Bias.numel(),
            _ => 0,
        });
        var keys = model.state_dict().Keys.ToList();

        Assert.Multiple(() =>
        {
            Assert.That(model.training, Is.False, "fusion leaves the model in eval mode");
            Assert.That(changed, Is.GreaterThan(0));
            Assert.That(deviation, Is.LessThanOrEqualTo(tolerance), "eval logits before and after fusion, relative to the largest |logit|");
            Assert.That(model.modules().OfType<BatchNorm2d>(), Is.Empty, "no BatchNorm left");
            Assert.That(keys.Where(k => k.Contains("bn.") || k.Contains("_batch_norm.") || k.Contains("dw_conv_list") || k.EndsWith("_mean") || k.EndsWith("_variance")), Is.Empty);
            Assert.That(after, Is.LessThan(before));
            Assert.That(after, Is.EqualTo(convLinearLab), "only conv weights + biases, Linear and LAB parameters remain");
            Assert.That(after, Is.EqualTo(before - branchParams - foldedChannels + fusedParams), "each fold trades gamma, beta for one conv bias");
            if (hasRepLayers) Assert.That(profileAfter.Macs, Is.LessThan(profileBefore.Macs), "the parallel branches no longer run");
            else if (hasRep)
            {
                Assert.That(profileAfter.Macs, Is.EqualTo(reppedMacs), "folding BN changes no MAC");
                Assert.That(profileAfter.Macs, Is.LessThan(profileBefore.Macs), "the 3x3 / 1x1 branches no longer run");
            }
            else Assert.That(profileAfter.Macs, Is.EqualTo(profileBefore.Macs), "MACs count convs and Linears only; folding BN changes none");
            Assert.That(profileAfter.PaddleFlops, Is.LessThan(profileBefore.PaddleFlops), "paddle.flops no longer counts BN");
            Assert.That(profileAfter.OutputShape, Is.EqualTo(profileBefore.OutputShape));
        });
        Assert.That(ModelFusion.Fuse(model), Is.Zero, "a second fusion changes nothing");
    }

    [Test]
    public void A_folded_conv_BN_layer_has_PaddleClas_inference_keys()
    {
        using var layer = new ConvBNLayer(4, 6, 3, 1, activation: nn.ReLU());
        Randomize(layer);
        layer.eval();
        using var input = randn(1, 4, 5, 5);
        using var expected = Logits(layer, input);

        layer.Reparameterize();

        using var actual = Logits(layer, input);
        Assert.Multiple(() =>
        {
            Assert.That(layer.IsReparameterized, Is.True);
            Assert.That(layer.Bn, Is.Null);
            Assert.That(layer.state_dict().Keys, Is.EquivalentTo(new[] { "conv.weight", "conv.bias" }));
            Assert.That(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), Is.True);
        });
    }
}
