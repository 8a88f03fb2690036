using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

public class PPHGNetV2Tests
{
    static ConfigSection Arch(string yaml = "") =>
        yaml.Length == 0
            ? ConfigSection.Empty("Arch")
            : new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "test.yaml"), "Arch");

    static PPHGNetV2.Variant VariantNamed(string name) => PPHGNetV2.Variants.Single(v => v.Name == name);

    static PPHGNetV2 Build(string name, string yaml = "") => PPHGNetV2.Create(VariantNamed(name), Arch(yaml));

    static Dictionary<string, long[]> Shapes(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    static Tensor Forward(nn.Module<Tensor, Tensor> model, int batch, int size = 224)
    {
        model.eval();
        using var noGrad = no_grad();
        return model.call(randn(batch, 3, size, size));
    }

    [TestCase("PPHGNetV2_B0", 2)]
    [TestCase("PPHGNetV2_B1", 1)]
    [TestCase("PPHGNetV2_B2", 1)]
    [TestCase("PPHGNetV2_B3", 1)]
    [TestCase("PPHGNetV2_B4", 1)]
    [TestCase("PPHGNetV2_B5", 1)]
    [TestCase("PPHGNetV2_B6", 1)]
    public void Forward_at_224_gives_one_row_of_logits_per_image(string name, int batch)
    {
        using var model = Build(name);
        using var scope = NewDisposeScope();
        var logits = Forward(model, batch);
        Assert.That(logits.shape, Is.EqualTo(new long[] { batch, 1000 }));
        Assert.That(logits.isfinite().all().item<bool>(), Is.True);
    }

    [Test]
    public void State_dict_keys_are_PaddleClas_keys()
    {
        using var model = Build("PPHGNetV2_B0");
        var shapes = Shapes(model);

        var expected = new Dictionary<string, long[]>
        {
            ["stem.stem1.conv.weight"] = [16, 3, 3, 3],
            ["stem.stem1.bn.weight"] = [16],
            ["stem.stem1.bn.bias"] = [16],
            ["stem.stem1.bn._mean"] = [16],
            ["stem.stem1.bn._variance"] = [16],
            ["stem.stem1.lab.scale"] = [1],
            ["stem.stem1.lab.bias"] = [1],
            ["stem.stem2a.conv.weight"] = [8, 16, 2, 2],
            ["stem.stem2b.conv.weight"] = [16, 8, 2, 2],
            ["stem.stem3.conv.weight"] = [16, 32, 3, 3],
            ["stem.stem4.lab.bias"] = [1],
            ["stages.0.blocks.0.layers.0.conv.weight"] = [16, 16, 3, 3],
            ["stages.0.blocks.0.aggregation_squeeze_conv.conv.weight"] = [32, 64, 1, 1],
            ["stages.0.blocks.0.aggregation_excitation_conv.lab.scale"] = [1],
            ["stages.1.downsample.conv.weight"] = [64, 1, 3, 3],
            ["stages.1.downsample.bn._variance"] = [64],
            ["stages.2.blocks.1.layers.0.conv1.conv.weight"] = [64, 512, 1, 1],
            ["stages.2.blocks.1.layers.0.conv2.conv.weight"] = [64, 1, 5, 5],
            ["stages.2.blocks.1.layers.0.conv2.bn._mean"] = [64],
            ["stages.2.blocks.1.layers.0.conv2.lab.scale"] = [1],
            ["stages.3.blocks.0.aggregation_excitation_conv.bn.bias"] = [1024],
            ["last_conv.weight"] = [2048, 1024, 1, 1],
            ["lab.scale"] = [1],
            ["lab.bias"] = [1],
            // torch layout [out, in]; PaddleClas stores [in, out]
            ["fc.weight"] = [1000, 2048],
            ["fc.bias"] = [1000],
        };
        foreach (var (key, shape) in expected)
        {
            Assert.That(shapes, Does.ContainKey(key));
            Assert.That(shapes[key], Is.EqualTo(shape), key);
        }

        // No activation, no LAB (the 1x1 of a light layer, the downsample); stage 1 has no downsample.
        Assert.That(shapes.Keys, Has.None.StartsWith("stages.0.downsample."));
        Assert.That(shapes.Keys, Has.None.EqualTo("stages.1.downsample.lab.scale"));
        Assert.That(shapes.Keys, Has.None.EqualTo("stages.2.blocks.1.layers.0.conv1.lab.scale"));
        Assert.That(shapes.Keys.Where(k => k.Contains("running_") || k.Contains("num_batches_tracked")), Is.Empty);
        Assert.That(shapes.Keys.Where(k => k.StartsWith("dropout") || k.StartsWith("act") || k.StartsWith("avg_pool")), Is.Empty);
    }

    [Test]
    public void Use_lab_defaults_to_true_for_B0_to_B3_and_can_be_overridden()
    {
        Assert.That(PPHGNetV2.Variants.Select(v => v.UseLab), Is.EqualTo(new[] { true, true, true, true, false, false, false }));

        using var withLab = Build("PPHGNetV2_B1");
        using var withoutLab = Build("PPHGNetV2_B1", "use_lab: false");
        var with = Shapes(withLab).Keys.ToList();
        var without = Shapes(withoutLab).Keys.ToList();
        Assert.That(without.Where(k => k.Contains("lab.")), Is.Empty);
        Assert.That(with.Except(without), Is.Not.Empty.And.All.Contains("lab."));
        Assert.That(without.Except(with), Is.Empty);
    }

    [Test]
    public void B4_has_no_learnable_affine_blocks()
    {
        using var model = Build("PPHGNetV2_B4");
        Assert.That(model.UseLab, Is.False);
        Assert.That(Shapes(model).Keys.Where(k => k.Contains("lab.")), Is.Empty);
    }

    [Test]
    public void Changing_class_num_changes_only_the_classifier()
    {
        using var thousand = Build("PPHGNetV2_B0");
        using var ten = Build("PPHGNetV2_B0", "class_num: 10");
        var a = Shapes(thousand);
        var b = Shapes(ten);

        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        var changed = a.Keys.Where(k => !a[k].SequenceEqual(b[k])).OrderBy(k => k, StringComparer.Ordinal).ToList();
        Assert.That(changed, Is.EqualTo(new[] { "fc.bias", "fc.weight" }));
        Assert.That(b["fc.weight"], Is.EqualTo(new long[] { 10, 2048 }));

        using var scope = NewDisposeScope();
        Assert.That(Forward(ten, 2, 64).shape, Is.EqualTo(new long[] { 2, 10 }));
    }

    [Test]
    public void Without_last_conv_the_classifier_reads_the_pooled_stage_4_features()
    {
        using var model = Build("PPHGNetV2_B0", "use_last_conv: false\nclass_num: 7");
        var shapes = Shapes(model);
        Assert.That(shapes.Keys.Where(k => k.StartsWith("last_conv") || k.StartsWith("lab.")), Is.Empty);
        Assert.That(shapes["fc.weight"], Is.EqualTo(new long[] { 7, 1024 }));
        Assert.That(model.modules().OfType<DownscaleInInferDropout>(), Is.Empty);

        using var scope = NewDisposeScope();
        Assert.That(Forward(model, 2).shape, Is.EqualTo(new long[] { 2, 7 }));
    }

    [Test]
    public void Class_expand_and_dropout_prob_reach_the_head()
    {
        using var model = Build("PPHGNetV2_B0", "class_expand: 512\ndropout_prob: 0.3");
        Assert.That(Shapes(model)["last_conv.weight"], Is.EqualTo(new long[] { 512, 1024, 1, 1 }));
        Assert.That(Shapes(model)["fc.weight"], Is.EqualTo(new long[] { 1000, 512 }));
        Assert.That(model.modules().OfType<DownscaleInInferDropout>().Single().P, Is.EqualTo(0.3));
    }

    [Test]
    public void The_factory_reads_exactly_the_PaddleClas_constructor_options()
    {
        var arch = Arch("class_num: 5\nuse_lab: true\nuse_last_conv: true\nclass_expand: 64\ndropout_prob: 0.1\nlr_mult_list: [1, 1, 1, 1, 1]\nstem_channels: [3, 8, 8]");
        using var model = PPHGNetV2.Create(PPHGNetV2.B0, arch);
        Assert.That(arch.UnreadKeys, Is.EqualTo(new[] { "stem_channels" }));
    }

    [Test]
    public void Bad_options_name_their_key()
    {
        var wrongLength = Assert.Throws<ConfigException>(() => Build("PPHGNetV2_B0", "lr_mult_list: [0.1, 0.2, 0.3, 0.4]"));
        Assert.That(wrongLength!.Message, Does.StartWith("Arch.lr_mult_list").And.Contain("expected 5 values"));

        var badDropout = Assert.Throws<ConfigException>(() => Build("PPHGNetV2_B0", "dropout_prob: 1.5"));
        Assert.That(badDropout!.Message, Does.StartWith("Arch.dropout_prob"));

        var badClassNum = Assert.Throws<ConfigException>(() => Build("PPHGNetV2_B0", "class_num: 0"));
        Assert.That(badClassNum!.Message, Does.StartWith("Arch.class_num"));
    }

    [Test]
    public void Learning_rate_multipliers_follow_lr_mult_list_and_lab_lr()
    {
        using var model = Build("PPHGNetV2_B0", "lr_mult_list: [0.1, 0.2, 0.3, 0.4, 0.5]");
        var lr = ((ILearningRateMultipliers)model).LearningRateMultipliers();
        var parameterNames = model.named_parameters().Select(p => p.name).ToHashSet();

        Assert.That(parameterNames.IsSupersetOf(lr.Keys), Is.True);
        Assert.That(lr["stem.stem1.conv.weight"], Is.EqualTo(0.1).Within(1e-12));
        Assert.That(lr["stem.stem4.bn.bias"], Is.EqualTo(0.1).Within(1e-12));
        Assert.That(lr["stem.stem1.lab.scale"], Is.EqualTo(0.001).Within(1e-12));
        Assert.That(lr["stages.0.blocks.0.layers.0.bn.weight"], Is.EqualTo(0.2).Within(1e-12));
        Assert.That(lr["stages.1.downsample.conv.weight"], Is.EqualTo(0.3).Within(1e-12));
        Assert.That(lr["stages.2.blocks.1.layers.2.conv1.conv.weight"], Is.EqualTo(0.4).Within(1e-12));
        Assert.That(lr["stages.3.blocks.0.aggregation_excitation_conv.lab.bias"], Is.EqualTo(0.005).Within(1e-12));
        // The head is outside lr_mult_list: last_conv and fc at the base rate, its LAB at lab_lr.
        Assert.That(lr["lab.scale"], Is.EqualTo(0.01).Within(1e-12));
        // Every trainable parameter but the head's conv and classifier is listed.
        Assert.That(parameterNames.Except(lr.Keys).OrderBy(k => k, StringComparer.Ordinal),
            Is.EqualTo(new[] { "fc.bias", "fc.weight", "last_conv.weight" }));
    }

    [Test]
    public void By_default_only_LAB_parameters_train_at_a_scaled_rate()
    {
        using var b0 = Build("PPHGNetV2_B0");
        var lr = ((ILearningRateMultipliers)b0).LearningRateMultipliers();
        Assert.That(lr.Keys, Is.Not.Empty);
        Assert.That(lr.Keys.Where(k => !(k.StartsWith("lab.") || k.Contains(".lab."))), Is.Empty);
        Assert.That(lr.Values.Distinct(), Is.EqualTo(new[] { 0.01 }));

        using var b4 = Build("PPHGNetV2_B4");
        Assert.That(((ILearningRateMultipliers)b4).LearningRateMultipliers(), Is.Empty);
    }

    [Test]
    public void Stem_pool_pads_right_and_bottom_without_letting_padding_win()
    {
        // All values negative, as after a LAB with negative bias: zero padding would put 0s on the border.
        float[] values = Enumerable.Range(1, 12).Select(i => -(float)((i * 7) % 12 + 1)).ToArray();
        using var scope = NewDisposeScope();
        var x = tensor(values).reshape(1, 1, 3, 4);
        var y = HGV2Stem.SamePadMaxPool2x2(x);

        Assert.That(y.shape, Is.EqualTo(new long[] { 1, 1, 3, 4 }));
        var got = y.data<float>().ToArray();
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
            {
                float expected = float.NegativeInfinity;
                for (int dr = 0; dr < 2; dr++)
                    for (int dc = 0; dc < 2; dc++)
                        if (r + dr < 3 && c + dc < 4) expected = Math.Max(expected, values[(r + dr) * 4 + c + dc]);
                Assert.That(got[r * 4 + c], Is.EqualTo(expected), $"row {r} col {c}");
            }
    }

    [Test]
    public void Same_padding_puts_the_odd_pixel_after()
    {
        Assert.That(ConvBNAct.SamePadding(56, 2, 1), Is.EqualTo((0L, 1L)));
        Assert.That(ConvBNAct.SamePadding(56, 3, 1), Is.EqualTo((1L, 1L)));
        Assert.That(ConvBNAct.SamePadding(7, 3, 2), Is.EqualTo((1L, 1L)));
        Assert.That(ConvBNAct.SamePadding(8, 3, 2), Is.EqualTo((0L, 1L)));
    }

    [Test]
    public void Stem_quarters_the_resolution()
    {
        using var stem = new HGV2Stem(3, 16, 16, useLab: true, lrMult: 1.0);
        stem.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Assert.That(stem.call(randn(1, 3, 224, 224)).shape, Is.EqualTo(new long[] { 1, 16, 56, 56 }));
        Assert.That(stem.call(randn(1, 3, 65, 65)).shape, Is.EqualTo(new long[] { 1, 16, 17, 17 }));
    }

    [Test]
    public void A_training_step_reaches_every_parameter()
    {
        using var model = Build("PPHGNetV2_B0", "class_num: 4\ndropout_prob: 0.2");
        model.train();
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(model.call(randn(2, 3, 64, 64)), tensor(new long[] { 1, 3 }));
        loss.backward();
        var withoutGrad = model.named_parameters().Where(p => p.parameter.grad is null).Select(p => p.name).ToList();
        Assert.That(withoutGrad, Is.Empty);
        Assert.That(model.named_parameters().Single(p => p.name == "stem.stem1.lab.bias").parameter.grad!.abs().item<float>(), Is.GreaterThan(0f));
    }

    [Test]
    public void Convs_start_Kaiming_normal_over_the_grouped_fan_in_as_in_PaddleClas()
    {
        using var model = Build("PPHGNetV2_B2");
        var state = model.state_dict();
        // (key, fan_in = in_channels / groups * k * k)
        var cases = new (string Key, double FanIn)[]
        {
            ("stages.3.downsample.conv.weight", 9),                  // depthwise 3x3
            ("stages.3.blocks.0.layers.1.conv2.conv.weight", 25),     // depthwise 5x5
            ("stages.2.blocks.0.aggregation_squeeze_conv.conv.weight", 384 + 4 * 128),
            ("last_conv.weight", 1536),
        };
        foreach (var (key, fanIn) in cases)
        {
            double std = state[key].std().item<float>();
            Assert.That(std, Is.EqualTo(Math.Sqrt(2.0 / fanIn)).Within(5).Percent, key);
        }
        Assert.That(state["stages.0.blocks.0.aggregation_excitation_conv.bn.weight"].eq(1f).all().item<bool>(), Is.True);
        Assert.That(state["fc.bias"].eq(0f).all().item<bool>(), Is.True);
    }

    [Test]
    public void Every_variant_is_registered_with_its_preset()
    {
        var registry = new ModelRegistry();
        PPHGNetV2.Register(registry);
        Assert.That(registry.Names, Is.EqualTo(Enumerable.Range(0, 7).Select(i => $"PPHGNetV2_B{i}")));
        foreach (var entry in registry.Entries)
        {
            Assert.That(entry.Family, Is.EqualTo("PPHGNetV2"));
            Assert.That(entry.Preset.ResizeShort, Is.EqualTo(232));
            Assert.That(entry.Preset.Interpolation, Is.EqualTo("bicubic"));
            Assert.That(entry.Preset.InputSize, Is.EqualTo(224));
        }

        using var model = registry.Get("PPHGNetV2_B0").Create(Arch("class_num: 3"));
        var keys = model.state_dict().Keys.ToList();
        var preset = registry.Get("PPHGNetV2_B0").Preset;
        Assert.That(keys, Does.Contain(preset.FirstConvKey).And.Contain(preset.ClassifierKey));
    }
}
