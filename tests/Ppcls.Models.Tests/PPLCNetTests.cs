using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

public class PPLCNetTests
{
    static ConfigSection Arch(string yaml = "") =>
        yaml.Length == 0
            ? ConfigSection.Empty("Arch")
            : new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "test.yaml"), "Arch");

    static ModelRegistry Registry()
    {
        var registry = new ModelRegistry();
        PPLCNet.Register(registry);
        return registry;
    }

    static nn.Module<Tensor, Tensor> Build(string name, string yaml = "") => Registry().Get(name).Create(Arch(yaml));

    static Dictionary<string, long[]> Shapes(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    static long[] Logits(nn.Module<Tensor, Tensor> model, int batch, int size = 224)
    {
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var y = model.call(randn(batch, 3, size, size));
        Assert.That(isfinite(y).all().item<bool>(), Is.True, "logits are finite");
        return y.shape;
    }

    [Test]
    public void Every_variant_maps_a_224_image_to_class_logits()
    {
        foreach (var variant in PPLCNet.Variants)
        {
            using var model = Build(variant.Name);
            Assert.That(Logits(model, 1), Is.EqualTo(new long[] { 1, 1000 }), variant.Name);
        }
    }

    [Test]
    public void A_batch_gives_one_row_per_image_with_class_num_columns()
    {
        using var model = Build("PPLCNet_x0_25", "class_num: 7");
        Assert.That(Logits(model, 3), Is.EqualTo(new long[] { 3, 7 }));
    }

    [Test]
    public void State_dict_keys_are_PaddleClas_keys()
    {
        using var model = Build("PPLCNet_x1_0");
        var shapes = Shapes(model);
        Assert.Multiple(() =>
        {
            Assert.That(shapes["conv1.conv.weight"], Is.EqualTo(new long[] { 16, 3, 3, 3 }));
            Assert.That(shapes["conv1.bn.weight"], Is.EqualTo(new long[] { 16 }));
            Assert.That(shapes["conv1.bn._mean"], Is.EqualTo(new long[] { 16 }));
            Assert.That(shapes["conv1.bn._variance"], Is.EqualTo(new long[] { 16 }));
            Assert.That(shapes["blocks2.0.dw_conv.conv.weight"], Is.EqualTo(new long[] { 16, 1, 3, 3 }));
            Assert.That(shapes["blocks2.0.dw_conv.bn._mean"], Is.EqualTo(new long[] { 16 }));
            Assert.That(shapes["blocks2.0.pw_conv.conv.weight"], Is.EqualTo(new long[] { 32, 16, 1, 1 }));
            Assert.That(shapes["blocks5.1.dw_conv.conv.weight"], Is.EqualTo(new long[] { 256, 1, 5, 5 }));
            Assert.That(shapes["blocks6.0.se.conv1.weight"], Is.EqualTo(new long[] { 64, 256, 1, 1 }));
            Assert.That(shapes["blocks6.0.se.conv1.bias"], Is.EqualTo(new long[] { 64 }));
            Assert.That(shapes["blocks6.1.se.conv2.weight"], Is.EqualTo(new long[] { 512, 128, 1, 1 }));
            Assert.That(shapes["blocks6.1.pw_conv.bn._variance"], Is.EqualTo(new long[] { 512 }));
            Assert.That(shapes["last_conv.weight"], Is.EqualTo(new long[] { 1280, 512, 1, 1 }));
            // Torch layout [out, in]; Paddle's Linear weight is [in, out].
            Assert.That(shapes["fc.weight"], Is.EqualTo(new long[] { 1000, 1280 }));
            Assert.That(shapes["fc.bias"], Is.EqualTo(new long[] { 1000 }));
            Assert.That(shapes.Keys.Where(k => k.Contains("running_") || k.Contains("num_batches")), Is.Empty);
            Assert.That(shapes.Keys.Where(k => k.StartsWith("blocks2.0.se", StringComparison.Ordinal)), Is.Empty, "SE only in blocks6");
            Assert.That(shapes, Has.Count.EqualTo(5 + 13 * 10 + 2 * 4 + 1 + 2), "conv1, 13 blocks of two conv-BNs (5 keys each), 2 SEs (4 keys), last_conv, fc");
        });
    }

    [Test]
    public void Block_convs_start_from_KaimingNormal_over_the_channels_of_one_group()
    {
        // PaddleClas gives ConvBNLayer KaimingNormal(): std sqrt(2 / (k * k * in_channels / groups)).
        using var model = Build("PPLCNet_x1_0");
        using var scope = NewDisposeScope();
        var weights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.That(weights["blocks5.1.dw_conv.conv.weight"].std().item<float>(), Is.EqualTo(Math.Sqrt(2.0 / 25)).Within(10).Percent);
        Assert.That(weights["blocks5.1.pw_conv.conv.weight"].std().item<float>(), Is.EqualTo(Math.Sqrt(2.0 / 256)).Within(10).Percent);
    }

    [Test]
    public void Changing_class_num_changes_only_the_classifier()
    {
        using var reference = Build("PPLCNet_x0_5");
        using var ten = Build("PPLCNet_x0_5", "class_num: 10");
        var a = Shapes(reference);
        var b = Shapes(ten);
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        var changed = a.Keys.Where(k => !a[k].SequenceEqual(b[k])).OrderBy(k => k, StringComparer.Ordinal).ToList();
        Assert.That(changed, Is.EqualTo(new[] { "fc.bias", "fc.weight" }));
        Assert.That(b["fc.weight"], Is.EqualTo(new long[] { 10, 1280 }));
    }

    [Test]
    public void Without_last_conv_the_classifier_reads_the_pooled_features()
    {
        using var model = Build("PPLCNet_x1_0", "use_last_conv: false\nclass_num: 5");
        var shapes = Shapes(model);
        Assert.That(shapes.Keys.Where(k => k.StartsWith("last_conv", StringComparison.Ordinal)), Is.Empty);
        Assert.That(shapes["fc.weight"], Is.EqualTo(new long[] { 5, 512 }));
        Assert.That(Logits(model, 2), Is.EqualTo(new long[] { 2, 5 }));
    }

    [Test]
    public void Stride_list_sets_the_stem_stride_and_each_stage_first_stride()
    {
        // With every stride 1 the last feature map stays at the input size: 32x32 in, 32x32 out.
        using var model = Build("PPLCNet_x0_25", "stride_list: [1, 1, 1, 1, 1]");
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var y = randn(1, 3, 32, 32);
        foreach (var name in new[] { "conv1", "blocks2", "blocks3", "blocks4", "blocks5", "blocks6" })
            y = ((nn.Module<Tensor, Tensor>)model.named_children().Single(c => c.name == name).module).call(y);
        Assert.That(y.shape, Is.EqualTo(new long[] { 1, 128, 32, 32 }));
    }

    [Test]
    public void Stride_list_pairs_stride_height_and_width_apart()
    {
        // PULC text-line orientation: 48x192 in; the stem halves both sides, then [2, 1] halves only
        // the height four times (24 -> 12 -> 6 -> 3 -> 2 with the 5x5 kernel's padding), width stays 96.
        using var model = Build("PPLCNet_x0_25", "stride_list: [2, [2, 1], [2, 1], [2, 1], [2, 1]]");
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var y = randn(1, 3, 48, 192);
        foreach (var name in new[] { "conv1", "blocks2", "blocks3", "blocks4", "blocks5", "blocks6" })
            y = ((nn.Module<Tensor, Tensor>)model.named_children().Single(c => c.name == name).module).call(y);
        Assert.That(y.shape, Is.EqualTo(new long[] { 1, 128, 2, 96 }));
        Assert.That(model.call(randn(2, 3, 48, 192)).shape, Is.EqualTo(new long[] { 2, 1000 }));
    }

    [TestCase("stride_list: [2, [2, 1, 1], 2, 2, 2]")]
    [TestCase("stride_list: [2, [2, 0], 2, 2, 2]")]
    [TestCase("stride_list: [2, two, 2, 2, 2]")]
    public void A_stride_that_is_not_a_number_or_pair_names_the_key(string yaml)
    {
        var ex = Assert.Throws<ConfigException>(() => Build("PPLCNet_x1_0", yaml));
        Assert.That(ex!.Message, Does.StartWith("Arch.stride_list").And.Contain("[h, w] pair"));
    }

    [Test]
    public void A_stride_list_of_the_wrong_length_names_the_key()
    {
        var ex = Assert.Throws<ConfigException>(() => Build("PPLCNet_x1_0", "stride_list: [2, 2, 2]"));
        Assert.That(ex!.Message, Does.StartWith("Arch.stride_list").And.Contain("5"));
    }

    [Test]
    public void Lr_mult_list_scales_each_stage_and_leaves_the_head_at_the_base_rate()
    {
        using var model = (PPLCNet)Build("PPLCNet_x0_25", "lr_mult_list: [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]");
        var multipliers = model.LearningRateMultipliers();
        Assert.Multiple(() =>
        {
            Assert.That(multipliers["conv1.conv.weight"], Is.EqualTo(0.0));
            Assert.That(multipliers["conv1.bn.bias"], Is.EqualTo(0.0));
            Assert.That(multipliers["blocks2.0.pw_conv.conv.weight"], Is.EqualTo(0.2));
            Assert.That(multipliers["blocks4.1.dw_conv.bn.weight"], Is.EqualTo(0.6));
            Assert.That(multipliers["blocks6.0.se.conv1.weight"], Is.EqualTo(1.0));
            Assert.That(multipliers.ContainsKey("fc.weight"), Is.False);
            Assert.That(multipliers.ContainsKey("last_conv.weight"), Is.False);
        });
    }

    [Test]
    public void Lr_mult_list_given_as_a_string_is_read_as_PaddleClas_evaluates_it()
    {
        using var model = (PPLCNet)Build("PPLCNet_x0_25", "lr_mult_list: \"[0.5, 1, 1, 1, 1, 2.0]\"");
        Assert.That(model.LearningRateMultipliers()["conv1.conv.weight"], Is.EqualTo(0.5));
        Assert.That(model.LearningRateMultipliers()["blocks6.1.pw_conv.conv.weight"], Is.EqualTo(2.0));
    }

    [Test]
    public void Inference_scales_the_head_by_one_minus_dropout_prob()
    {
        // downscale_in_infer: at p = 0.5 inference feeds fc with 0.5 h where p = 0 feeds h.
        torch.manual_seed(1);
        using var keep = (PPLCNet)Build("PPLCNet_x0_25", "dropout_prob: 0.0");
        using var half = (PPLCNet)Build("PPLCNet_x0_25", "dropout_prob: 0.5");
        half.load_state_dict(keep.state_dict());
        keep.eval();
        half.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn(2, 3, 64, 64);
        var bias = ((Linear)keep.named_children().Single(c => c.name == "fc").module).bias!;
        // fc is affine: fc(0.5 h) = 0.5 fc(h) + 0.5 b.
        var expected = keep.call(x).mul(0.5).add(bias.mul(0.5));
        Assert.That(half.call(x).allclose(expected, rtol: 1e-4, atol: 1e-5), Is.True);
    }

    [Test]
    public void The_model_zoo_registers_every_variant_with_a_preset_whose_keys_exist()
    {
        var registry = ModelZoo.CreateRegistry();
        foreach (var variant in PPLCNet.Variants)
        {
            var entry = registry.Get(variant.Name);
            Assert.That(entry.Family, Is.EqualTo("PPLCNet"));
            Assert.That((entry.Preset.InputSize, entry.Preset.ResizeShort, entry.Preset.Interpolation), Is.EqualTo((224, 256, "bilinear")));
        }
        using var model = Build("PPLCNet_x0_35");
        var keys = model.state_dict().Keys;
        Assert.That(keys, Does.Contain(PPLCNet.Preset.FirstConvKey).And.Contain(PPLCNet.Preset.ClassifierKey));
    }
}
