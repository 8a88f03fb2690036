using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

public class MobileNetV2Tests
{
    static ConfigSection Arch(string yaml = "") =>
        yaml.Length == 0
            ? ConfigSection.Empty("Arch")
            : new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "test.yaml"), "Arch");

    static MobileNetV2 Build(string name, string yaml = "")
    {
        var registry = new ModelRegistry();
        MobileNetV2.Register(registry);
        return (MobileNetV2)registry.Get(name).Create(Arch(yaml));
    }

    static Dictionary<string, long[]> Shapes(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    [Test]
    public void Every_variant_maps_a_224_image_to_class_logits()
    {
        foreach (var variant in MobileNetV2.Variants)
        {
            using var model = Build(variant.Name);
            model.eval();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            int batch = variant.Scale < 1.0 ? 2 : 1;
            var y = model.call(randn(batch, 3, 224, 224));
            Assert.That(y.shape, Is.EqualTo(new long[] { batch, 1000 }), variant.Name);
            Assert.That(isfinite(y).all().item<bool>(), Is.True);
        }
    }

    [Test]
    public void State_dict_keys_are_PaddleClas_keys()
    {
        using var model = Build("MobileNetV2");
        var shapes = Shapes(model);
        Assert.Multiple(() =>
        {
            Assert.That(shapes["conv1._conv.weight"], Is.EqualTo(new long[] { 32, 3, 3, 3 }));
            Assert.That(shapes["conv1._batch_norm.weight"], Is.EqualTo(new long[] { 32 }));
            Assert.That(shapes["conv1._batch_norm._mean"], Is.EqualTo(new long[] { 32 }));
            Assert.That(shapes["conv1._batch_norm._variance"], Is.EqualTo(new long[] { 32 }));
            // t = 1 still has PaddleClas's expand conv.
            Assert.That(shapes["conv2._first_block._expand_conv._conv.weight"], Is.EqualTo(new long[] { 32, 32, 1, 1 }));
            Assert.That(shapes["conv2._first_block._bottleneck_conv._conv.weight"], Is.EqualTo(new long[] { 32, 1, 3, 3 }));
            Assert.That(shapes["conv2._first_block._linear_conv._batch_norm.bias"], Is.EqualTo(new long[] { 16 }));
            Assert.That(shapes["conv3._first_block._expand_conv._conv.weight"], Is.EqualTo(new long[] { 96, 16, 1, 1 }));
            Assert.That(shapes["conv3.conv3_2._expand_conv._conv.weight"], Is.EqualTo(new long[] { 144, 24, 1, 1 }));
            Assert.That(shapes["conv5.conv5_4._linear_conv._batch_norm._variance"], Is.EqualTo(new long[] { 64 }));
            Assert.That(shapes["conv8._first_block._linear_conv._conv.weight"], Is.EqualTo(new long[] { 320, 960, 1, 1 }));
            Assert.That(shapes["conv9._conv.weight"], Is.EqualTo(new long[] { 1280, 320, 1, 1 }));
            // Torch layout [out, in]; Paddle's Linear weight is [in, out].
            Assert.That(shapes["out.weight"], Is.EqualTo(new long[] { 1000, 1280 }));
            Assert.That(shapes["out.bias"], Is.EqualTo(new long[] { 1000 }));
            Assert.That(shapes.Keys.Where(k => k.StartsWith("conv2.conv2_", StringComparison.Ordinal)), Is.Empty, "conv2 has one block");
            Assert.That(shapes.Keys.Where(k => k.Contains("running_") || k.Contains("num_batches")), Is.Empty);
            Assert.That(shapes, Has.Count.EqualTo(5 + 17 * 15 + 5 + 2), "conv1, 17 blocks of three conv-BNs, conv9, out");
        });
    }

    [Test]
    public void Widths_follow_int_of_scale_and_widen_the_last_conv_only_above_scale_one()
    {
        var quarter = Shapes(Build("MobileNetV2_x0_25"));
        var wide = Shapes(Build("MobileNetV2_x1_5"));
        Assert.Multiple(() =>
        {
            Assert.That(quarter["conv1._conv.weight"], Is.EqualTo(new long[] { 8, 3, 3, 3 }));
            Assert.That(quarter["conv2._first_block._linear_conv._conv.weight"], Is.EqualTo(new long[] { 4, 8, 1, 1 }));
            Assert.That(quarter["conv9._conv.weight"], Is.EqualTo(new long[] { 1280, 80, 1, 1 }));
            Assert.That(wide["conv1._conv.weight"], Is.EqualTo(new long[] { 48, 3, 3, 3 }));
            Assert.That(wide["conv9._conv.weight"], Is.EqualTo(new long[] { 1920, 480, 1, 1 }));
            Assert.That(wide["out.weight"], Is.EqualTo(new long[] { 1000, 1920 }));
        });
    }

    [Test]
    public void Convs_start_from_Paddle_default_init_which_counts_all_input_channels_of_a_depthwise_conv()
    {
        // Paddle's Conv2D default: Normal(0, sqrt(2 / (k * k * in_channels))), groups ignored.
        using var model = Build("MobileNetV2");
        using var scope = NewDisposeScope();
        var weights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        double depthwiseStd = weights["conv8._first_block._bottleneck_conv._conv.weight"].std().item<float>();
        double pointwiseStd = weights["conv8._first_block._expand_conv._conv.weight"].std().item<float>();
        Assert.That(depthwiseStd, Is.EqualTo(Math.Sqrt(2.0 / (9 * 960))).Within(10).Percent);
        Assert.That(pointwiseStd, Is.EqualTo(Math.Sqrt(2.0 / 160)).Within(10).Percent);
        Assert.That(weights["conv1._batch_norm.weight"].eq(1).all().item<bool>(), Is.True);
    }

    [Test]
    public void Changing_class_num_changes_only_the_classifier()
    {
        var a = Shapes(Build("MobileNetV2_x0_5"));
        var b = Shapes(Build("MobileNetV2_x0_5", "class_num: 102"));
        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        var changed = a.Keys.Where(k => !a[k].SequenceEqual(b[k])).OrderBy(k => k, StringComparer.Ordinal).ToList();
        Assert.That(changed, Is.EqualTo(new[] { "out.bias", "out.weight" }));
        Assert.That(b["out.weight"], Is.EqualTo(new long[] { 102, 1280 }));
    }

    [Test]
    public void Only_class_num_is_read_from_the_arch_section()
    {
        var section = Arch("class_num: 10\nprefix_name: x_\nuse_last_conv: false");
        var registry = new ModelRegistry();
        MobileNetV2.Register(registry);
        using var model = registry.Get("MobileNetV2").Create(section);
        Assert.That(section.UnreadKeys, Is.EquivalentTo(new[] { "prefix_name", "use_last_conv" }));
    }

    [Test]
    public void The_model_zoo_registers_every_variant_with_a_preset_whose_keys_exist()
    {
        var registry = ModelZoo.CreateRegistry();
        foreach (var variant in MobileNetV2.Variants)
            Assert.That(registry.Get(variant.Name).Family, Is.EqualTo("MobileNetV2"));
        using var model = Build("MobileNetV2_x0_25");
        Assert.That(model.state_dict().Keys, Does.Contain(MobileNetV2.Preset.FirstConvKey).And.Contain(MobileNetV2.Preset.ClassifierKey));
    }
}
