using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Models;
using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;
using BatchNorm2d = Ppcls.Models.Layers.BatchNorm2d;

namespace Ppcls.Models.Tests;

public class PPLCNetV2Tests
{
    static ConfigSection Arch(string yaml = "") =>
        yaml.Length == 0
            ? ConfigSection.Empty("Arch")
            : new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "test.yaml"), "Arch");

    static PPLCNetV2 Build(string name, string yaml = "") => Build(name, Arch(yaml));

    static PPLCNetV2 Build(string name, ConfigSection section)
    {
        var registry = new ModelRegistry();
        PPLCNetV2.Register(registry);
        return (PPLCNetV2)registry.Get(name).Create(section);
    }

    static Dictionary<string, long[]> Shapes(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    /// <summary>BN statistics and affine terms far from their initial 0/1, so a wrong fusion shows.</summary>
    static void RandomizeBatchNorms(nn.Module model)
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
    }

    [Test]
    public void Every_variant_maps_a_224_image_to_class_logits()
    {
        foreach (var variant in PPLCNetV2.Variants)
        {
            using var model = Build(variant.Name, "class_num: 12");
            model.eval();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var y = model.call(randn(variant.Name == "PPLCNetV2_small" ? 2 : 1, 3, 224, 224));
            Assert.That(y.shape, Is.EqualTo(new long[] { variant.Name == "PPLCNetV2_small" ? 2 : 1, 12 }), variant.Name);
            Assert.That(isfinite(y).all().item<bool>(), Is.True);
        }
    }

    [Test]
    public void State_dict_keys_are_PaddleClas_keys()
    {
        using var model = Build("PPLCNetV2_base");
        var shapes = Shapes(model);
        Assert.Multiple(() =>
        {
            Assert.That(shapes["stem.0.conv.weight"], Is.EqualTo(new long[] { 32, 3, 3, 3 }));
            Assert.That(shapes["stem.0.bn._mean"], Is.EqualTo(new long[] { 32 }));
            Assert.That(shapes["stem.1.dw_conv.conv.weight"], Is.EqualTo(new long[] { 32, 1, 3, 3 }));
            Assert.That(shapes["stem.1.pw_conv.conv.weight"], Is.EqualTo(new long[] { 64, 32, 1, 1 }));
            Assert.That(shapes["stages.0.0.dw_conv.bn._variance"], Is.EqualTo(new long[] { 64 }));
            Assert.That(shapes["stages.1.1.pw_conv.conv.weight"], Is.EqualTo(new long[] { 256, 256, 1, 1 }));
            // Stage 3 (the paper's stage 4): rep 5/3(/1) branches, fused conv, SE, split pointwise.
            Assert.That(shapes["stages.2.0.dw_conv_list.0.conv.weight"], Is.EqualTo(new long[] { 256, 1, 5, 5 }));
            Assert.That(shapes["stages.2.0.dw_conv_list.1.conv.weight"], Is.EqualTo(new long[] { 256, 1, 3, 3 }));
            Assert.That(shapes.ContainsKey("stages.2.0.dw_conv_list.2.conv.weight"), Is.False, "no 1x1 branch at stride 2");
            Assert.That(shapes["stages.2.1.dw_conv_list.2.conv.weight"], Is.EqualTo(new long[] { 512, 1, 1, 1 }));
            Assert.That(shapes["stages.2.1.dw_conv_list.2.bn._mean"], Is.EqualTo(new long[] { 512 }));
            Assert.That(shapes["stages.2.0.dw_conv.weight"], Is.EqualTo(new long[] { 256, 1, 5, 5 }));
            Assert.That(shapes["stages.2.0.dw_conv.bias"], Is.EqualTo(new long[] { 256 }));
            Assert.That(shapes["stages.2.0.se.conv1.weight"], Is.EqualTo(new long[] { 64, 256, 1, 1 }));
            Assert.That(shapes["stages.2.0.se.conv2.bias"], Is.EqualTo(new long[] { 256 }));
            Assert.That(shapes["stages.2.0.pw_conv_1.conv.weight"], Is.EqualTo(new long[] { 256, 256, 1, 1 }));
            Assert.That(shapes["stages.2.5.pw_conv_2.bn.weight"], Is.EqualTo(new long[] { 512 }));
            Assert.That(shapes["stages.3.1.pw_conv.conv.weight"], Is.EqualTo(new long[] { 1024, 1024, 1, 1 }));
            Assert.That(shapes.Keys.Where(k => k.StartsWith("stages.3.", StringComparison.Ordinal) && k.Contains(".se.")), Is.Empty, "SE only in stage 3");
            Assert.That(shapes["last_conv.weight"], Is.EqualTo(new long[] { 1280, 1024, 1, 1 }));
            // Torch layout [out, in]; Paddle's Linear weight is [in, out].
            Assert.That(shapes["fc.weight"], Is.EqualTo(new long[] { 1000, 1280 }));
            Assert.That(shapes.Keys.Where(k => k.Contains("running_") || k.Contains("num_batches")), Is.Empty);
        });
    }

    [Test]
    public void Changing_class_num_changes_only_the_classifier()
    {
        var a = Shapes(Build("PPLCNetV2_small"));
        var b = Shapes(Build("PPLCNetV2_small", "class_num: 3"));
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        var changed = a.Keys.Where(k => !a[k].SequenceEqual(b[k])).OrderBy(k => k, StringComparer.Ordinal).ToList();
        Assert.That(changed, Is.EqualTo(new[] { "fc.bias", "fc.weight" }));
    }

    [Test]
    public void Without_last_conv_the_classifier_reads_the_pooled_features()
    {
        using var model = Build("PPLCNetV2_small", "use_last_conv: false\nclass_num: 4");
        var shapes = Shapes(model);
        Assert.That(shapes.Keys.Where(k => k.StartsWith("last_conv", StringComparison.Ordinal)), Is.Empty);
        Assert.That(shapes["fc.weight"], Is.EqualTo(new long[] { 4, 768 }));
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Assert.That(model.call(randn(2, 3, 64, 64)).shape, Is.EqualTo(new long[] { 2, 4 }));
    }

    [Test]
    public void Dropout_prob_is_fixed_by_the_factory_and_left_unread_as_in_PaddleClas()
    {
        var section = Arch("class_num: 10\ndropout_prob: 0.5");
        using var model = Build("PPLCNetV2_base", section);
        Assert.That(section.UnreadKeys, Is.EqualTo(new[] { "dropout_prob" }));
    }

    [TestCase(1, 16, false, false)]
    [TestCase(1, 16, true, true)]
    [TestCase(2, 32, true, true)]
    public void Rep_fusion_gives_the_same_output_as_the_branches_in_eval_mode(int stride, int outChannels, bool splitPointwise, bool useSE)
    {
        torch.manual_seed(7);
        using var block = new RepDepthwiseSeparable(16, outChannels, stride, kernelSize: 5,
            splitPointwise: splitPointwise, useRep: true, useSE: useSE, useShortcut: true);
        RandomizeBatchNorms(block);
        block.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn(2, 16, 11, 11);
        var branches = block.call(x);
        block.Rep();
        var fused = block.call(x);
        Assert.That(block.IsRepped, Is.True);
        Assert.That(fused.shape, Is.EqualTo(branches.shape));
        Assert.That(fused.sub(branches).abs().max().item<float>(), Is.LessThan(1e-5f));
        Assert.That(branches.abs().max().item<float>(), Is.GreaterThan(0.1f), "the check is not vacuous");
    }

    [Test]
    public void Rep_on_the_whole_network_keeps_the_logits()
    {
        torch.manual_seed(11);
        using var model = Build("PPLCNetV2_small", "class_num: 10");
        RandomizeBatchNorms(model);
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn(2, 3, 64, 64);
        var before = model.call(x);
        model.Rep();
        var after = model.call(x);
        Assert.That(model.modules().OfType<RepDepthwiseSeparable>().Where(b => b.UsesRep).All(b => b.IsRepped), Is.True);
        // Float32 rounding grows through ~20 blocks, so the whole network is held to 1e-5 relative
        // to its largest logit (each block alone is held to 1e-5 absolute above).
        float scale = before.abs().max().item<float>();
        Assert.That(after.sub(before).abs().max().item<float>(), Is.LessThan(1e-5f * Math.Max(1f, scale)));
    }

    [Test]
    public void The_model_zoo_registers_every_variant_with_a_preset_whose_keys_exist()
    {
        var registry = ModelZoo.CreateRegistry();
        foreach (var variant in PPLCNetV2.Variants)
            Assert.That(registry.Get(variant.Name).Family, Is.EqualTo("PPLCNetV2"));
        using var model = Build("PPLCNetV2_small");
        Assert.That(model.state_dict().Keys, Does.Contain(PPLCNetV2.Preset.FirstConvKey).And.Contain(PPLCNetV2.Preset.ClassifierKey));
    }
}
