using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

public class PPHGNetTests
{
    static ConfigSection Arch(string yaml = "") =>
        yaml.Length == 0
            ? ConfigSection.Empty("Arch")
            : new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "test.yaml"), "Arch");

    static PPHGNet.Variant VariantNamed(string name) => PPHGNet.Variants.Single(v => v.Name == name);

    static PPHGNet Build(string name, string yaml = "") => PPHGNet.Create(VariantNamed(name), Arch(yaml));

    static Dictionary<string, long[]> Shapes(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    static Tensor Forward(nn.Module<Tensor, Tensor> model, int batch, int size = 224)
    {
        model.eval();
        using var noGrad = no_grad();
        return model.call(randn(batch, 3, size, size));
    }

    // Paddle's parameter total (PublishedFiguresTests) counts the BN running mean and variance as
    // parameters; they are the only buffers, so the model list's figure is parameters plus buffers.
    [TestCase("PPHGNet_tiny")]
    [TestCase("PPHGNet_small")]
    [TestCase("PPHGNet_base")]
    public void The_only_buffers_are_the_BN_statistics(string name)
    {
        using var model = Build(name);
        Assert.That(model.named_buffers().Count(), Is.EqualTo(model.named_buffers().Count(b => b.name.EndsWith("._mean") || b.name.EndsWith("._variance"))));
        Assert.That(model.named_buffers().Count(), Is.GreaterThan(0));
    }

    [TestCase("PPHGNet_tiny", 2)]
    [TestCase("PPHGNet_small", 1)]
    [TestCase("PPHGNet_base", 1)]
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
        using var model = Build("PPHGNet_tiny");
        var shapes = Shapes(model);

        var expected = new Dictionary<string, long[]>
        {
            ["stem.0.conv.weight"] = [48, 3, 3, 3],
            ["stem.0.bn._mean"] = [48],
            ["stem.1.conv.weight"] = [48, 48, 3, 3],
            ["stem.2.bn._variance"] = [96],
            ["stages.0.blocks.0.layers.0.conv.weight"] = [96, 96, 3, 3],
            ["stages.0.blocks.0.layers.4.bn.weight"] = [96],
            ["stages.0.blocks.0.aggregation_conv.conv.weight"] = [224, 96 + 5 * 96, 1, 1],
            ["stages.0.blocks.0.att.conv.weight"] = [224, 224, 1, 1],
            ["stages.0.blocks.0.att.conv.bias"] = [224],
            ["stages.1.downsample.conv.weight"] = [224, 1, 3, 3],
            ["stages.1.downsample.bn.bias"] = [224],
            ["stages.2.blocks.1.layers.0.conv.weight"] = [160, 512, 3, 3],
            ["stages.2.blocks.1.aggregation_conv.bn._mean"] = [512],
            ["stages.3.blocks.0.att.conv.bias"] = [768],
            ["last_conv.weight"] = [2048, 768, 1, 1],
            // torch layout [out, in]; PaddleClas stores [in, out]
            ["fc.weight"] = [1000, 2048],
            ["fc.bias"] = [1000],
        };
        foreach (var (key, shape) in expected)
        {
            Assert.That(shapes, Does.ContainKey(key));
            Assert.That(shapes[key], Is.EqualTo(shape), key);
        }

        Assert.That(shapes.Keys.Where(k => k.StartsWith("stages.0.downsample.")), Is.Empty);
        Assert.That(shapes.Keys.Where(k => k.Contains("lab.") || k.Contains("running_") || k.Contains("num_batches_tracked")), Is.Empty);
        Assert.That(shapes.Keys.Where(k => k.StartsWith("pool") || k.StartsWith("dropout") || k.StartsWith("avg_pool")), Is.Empty);
    }

    [Test]
    public void Changing_class_num_changes_only_the_classifier()
    {
        using var thousand = Build("PPHGNet_tiny");
        using var ten = Build("PPHGNet_tiny", "class_num: 10");
        var a = Shapes(thousand);
        var b = Shapes(ten);

        Assert.That(b.Keys, Is.EquivalentTo(a.Keys));
        var changed = a.Keys.Where(k => !a[k].SequenceEqual(b[k])).OrderBy(k => k, StringComparer.Ordinal).ToList();
        Assert.That(changed, Is.EqualTo(new[] { "fc.bias", "fc.weight" }));

        using var scope = NewDisposeScope();
        Assert.That(Forward(ten, 2, 64).shape, Is.EqualTo(new long[] { 2, 10 }));
    }

    [Test]
    public void Without_last_conv_the_classifier_reads_the_pooled_stage_4_features()
    {
        using var model = Build("PPHGNet_tiny", "use_last_conv: false\nclass_num: 7");
        var shapes = Shapes(model);
        Assert.That(shapes.Keys.Where(k => k.StartsWith("last_conv")), Is.Empty);
        Assert.That(shapes["fc.weight"], Is.EqualTo(new long[] { 7, 768 }));

        using var scope = NewDisposeScope();
        Assert.That(Forward(model, 2, 96).shape, Is.EqualTo(new long[] { 2, 7 }));
    }

    [Test]
    public void Base_drops_out_20_percent_by_default_and_others_do_not()
    {
        using var tiny = Build("PPHGNet_tiny");
        using var baseModel = Build("PPHGNet_base");
        using var overridden = Build("PPHGNet_base", "dropout_prob: 0.5\nclass_expand: 256");
        Assert.That(tiny.modules().OfType<DownscaleInInferDropout>().Single().P, Is.EqualTo(0.0));
        Assert.That(baseModel.modules().OfType<DownscaleInInferDropout>().Single().P, Is.EqualTo(0.2));
        Assert.That(overridden.modules().OfType<DownscaleInInferDropout>().Single().P, Is.EqualTo(0.5));
        Assert.That(Shapes(overridden)["last_conv.weight"], Is.EqualTo(new long[] { 256, 1280, 1, 1 }));
    }

    [Test]
    public void The_factory_reads_exactly_the_PaddleClas_constructor_options()
    {
        var arch = Arch("class_num: 5\nuse_last_conv: true\nclass_expand: 64\ndropout_prob: 0.1\nuse_lab: true\nlr_mult_list: [1, 1, 1, 1, 1]");
        using var model = PPHGNet.Create(PPHGNet.Tiny, arch);
        // PPHGNet has neither LAB nor per-stage learning rates: those keys stay unread for the caller to reject.
        Assert.That(arch.UnreadKeys, Is.EquivalentTo(new[] { "use_lab", "lr_mult_list" }));
    }

    [Test]
    public void Downscale_in_infer_dropout_scales_at_inference_and_not_in_training()
    {
        using var dropout = new DownscaleInInferDropout(0.25);
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1f, -2f, 4f, 8f });

        dropout.eval();
        Assert.That(dropout.call(x).data<float>().ToArray(), Is.EqualTo(new[] { 0.75f, -1.5f, 3f, 6f }));

        // Training keeps survivors unscaled: every output is 0 or its input.
        dropout.train();
        manual_seed(7);
        var big = ones(10000) * 3f;
        var y = dropout.call(big).data<float>().ToArray();
        Assert.That(y.All(v => v == 0f || v == 3f), Is.True);
        double dropped = y.Count(v => v == 0f) / (double)y.Length;
        Assert.That(dropped, Is.EqualTo(0.25).Within(0.03));

        using var none = new DownscaleInInferDropout(0.0);
        none.eval();
        Assert.That(none.call(x).data<float>().ToArray(), Is.EqualTo(new[] { 1f, -2f, 4f, 8f }));
    }

    [Test]
    public void Every_variant_is_registered_with_its_preset()
    {
        var registry = new ModelRegistry();
        PPHGNet.Register(registry);
        Assert.That(registry.Names, Is.EqualTo(new[] { "PPHGNet_base", "PPHGNet_small", "PPHGNet_tiny" }));
        var resize = registry.Entries.ToDictionary(e => e.Name, e => e.Preset.ResizeShort);
        Assert.That(resize, Is.EqualTo(new Dictionary<string, int> { ["PPHGNet_tiny"] = 232, ["PPHGNet_small"] = 236, ["PPHGNet_base"] = 236 }));
        foreach (var entry in registry.Entries)
        {
            Assert.That(entry.Family, Is.EqualTo("PPHGNet"));
            Assert.That(entry.Preset.Interpolation, Is.EqualTo("bicubic"));
            Assert.That(entry.Preset.InputSize, Is.EqualTo(224));
        }

        using var model = registry.Get("PPHGNet_tiny").Create(Arch("class_num: 3"));
        var preset = registry.Get("PPHGNet_tiny").Preset;
        Assert.That(model.state_dict().Keys, Does.Contain(preset.FirstConvKey).And.Contain(preset.ClassifierKey));
    }
}
