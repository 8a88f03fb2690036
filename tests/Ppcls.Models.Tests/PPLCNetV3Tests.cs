using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Models.LCNetV3;
using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>
/// PP-LCNetV3: sizes from the published NET_CONFIG, exact rep fusion, PaddleOCR's names and
/// strides, LAB learning rates, and loading a PaddleOCR recognition model's backbone.
/// </summary>
public sealed class PPLCNetV3Tests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-lcnetv3-test-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static readonly ModelRegistry Registry = ModelZoo.CreateRegistry();

    static PPLCNetV3 Build(string name, string yaml = "class_num: 1000\n") =>
        (PPLCNetV3)Registry.Get(name).Create(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "arch.yaml"), "Arch"));

    static int Div16(double v)
    {
        int r = Math.Max(16, (int)(v + 8) / 16 * 16);
        return r < 0.9 * v ? r + 16 : r;
    }

    /// <summary>
    /// The trainable count of PaddleClas's NET_CONFIG (k, in, out, stride, se per block) at a scale,
    /// term by term: a rep layer of kernel k, groups g has 4 kxk conv-BN branches (k^2 in/g out + 2 out),
    /// a 1x1 conv-BN where k &gt; 1 (in/g out + 2 out), an identity BN where in == out at stride 1 (2 in),
    /// its LAB (2) and, unless stride 2, the activation's LAB (2); SE of c channels 2 c (c/4) + c/4 + c;
    /// conv1 27 w + 2 w; the head 1280 w6 + 2 and fc 1280 * 1000 + 1000.
    /// </summary>
    static long PublishedCount(double scale)
    {
        int[][] config =
        [
            [3, 16, 32, 1, 0],
            [3, 32, 64, 2, 0], [3, 64, 64, 1, 0],
            [3, 64, 128, 2, 0], [3, 128, 128, 1, 0],
            [3, 128, 256, 2, 0], [5, 256, 256, 1, 0], [5, 256, 256, 1, 0], [5, 256, 256, 1, 0], [5, 256, 256, 1, 0],
            [5, 256, 512, 2, 1], [5, 512, 512, 1, 1], [5, 512, 512, 1, 0], [5, 512, 512, 1, 0],
        ];
        long Rep(long k, long cin, long cout, long stride, long groups) =>
            4 * (k * k * (cin / groups) * cout + 2 * cout) + (k > 1 ? cin / groups * cout + 2 * cout : 0)
            + (cin == cout && stride == 1 ? 2 * cin : 0) + 2 + (stride == 2 ? 0 : 2);
        int w1 = Div16(16 * scale);
        long count = 27L * w1 + 2 * w1;
        foreach (var b in config)
        {
            long cin = Div16(b[1] * scale), cout = Div16(b[2] * scale);
            count += Rep(b[0], cin, cin, b[3], cin);
            if (b[4] == 1) count += 2 * cin * (cin / 4) + cin / 4 + cin;
            count += Rep(1, cin, cout, 1, 1);
        }
        return count + 1280L * Div16(512 * scale) + 2 + 1280L * 1000 + 1000;
    }

    [TestCase("PPLCNetV3_x0_35", 0.35, 2_290_822)]
    [TestCase("PPLCNetV3_x0_5", 0.5, 3_082_210)]
    [TestCase("PPLCNetV3_x0_75", 0.75, 4_947_650)]
    [TestCase("PPLCNetV3_x1_0", 1.0, 7_450_194)]
    [TestCase("PPLCNetV3_base", 0.95, 6_787_910)]
    public void Parameter_count_is_the_count_of_the_published_configuration(string name, double scale, long expected)
    {
        using var model = Build(name);
        long count = model.parameters().Sum(p => p.numel());

        Assert.That(PublishedCount(scale), Is.EqualTo(expected), "the formula's own figure");
        Assert.That(count, Is.EqualTo(expected));
    }

    [Test]
    public void State_dict_keys_are_PaddleOCR_names()
    {
        using var model = Build("PPLCNetV3_base");
        var keys = model.state_dict().Keys.ToHashSet();

        Assert.That(keys, Is.SupersetOf(new[]
        {
            "conv1.conv.weight", "conv1.bn._mean", "conv1.bn._variance",
            "blocks2.0.dw_conv.identity.weight", "blocks2.0.dw_conv.identity._variance",
            "blocks2.0.dw_conv.conv_kxk.3.conv.weight", "blocks2.0.dw_conv.conv_kxk.0.bn.bias", "blocks2.0.dw_conv.conv_1x1.conv.weight",
            "blocks2.0.dw_conv.lab.scale", "blocks2.0.dw_conv.act.lab.bias", "blocks2.0.pw_conv.conv_kxk.0.conv.weight",
            "blocks6.0.se.conv1.weight", "blocks6.1.se.conv2.bias", "last_conv.weight", "act.lab.scale", "fc.weight", "fc.bias",
        }));
        Assert.That(keys.Where(k => k.StartsWith("blocks2.0.pw_conv.conv_1x1", StringComparison.Ordinal)), Is.Empty, "a 1x1 layer has no extra 1x1 branch");
        Assert.That(keys.Where(k => k.StartsWith("blocks3.0.dw_conv.act.", StringComparison.Ordinal) || k.StartsWith("blocks3.0.dw_conv.identity", StringComparison.Ordinal)), Is.Empty,
            "a stride-2 layer has no activation and no identity branch");
        Assert.That(keys.Where(k => k.StartsWith("act1.", StringComparison.Ordinal)), Is.Empty, "conv1 at stride 2 has no activation");
        Assert.That(keys.Where(k => k.StartsWith("blocks6.2.se", StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public void The_recognition_variant_keeps_the_width_and_keeps_the_activation_at_stride_2_1()
    {
        using var model = Build("PPLCNetV3_base_rec");
        model.eval();
        using var noGrad = no_grad();
        using var features = model.ForwardFeatures(randn(1, 3, 48, 320));
        var keys = model.state_dict().Keys.ToHashSet();

        // 48x320 -> conv1 /2 -> 24x160 -> blocks4 (2, 1) -> 12x160 -> blocks5 (1, 2) -> 12x80 -> blocks6 (2, 1) twice -> 3x80.
        Assert.That(features.shape, Is.EqualTo(new long[] { 1, 480, 3, 80 }));
        Assert.That(keys, Does.Contain("blocks4.0.dw_conv.act.lab.scale"), "PaddleOCR's stride != 2 test: a (2, 1) layer keeps its activation");
        Assert.That(keys, Does.Contain("blocks3.0.dw_conv.identity.weight"), "blocks3 starts at stride 1 in NET_CONFIG_rec");
    }

    [TestCase("PPLCNetV3_x0_35")]
    [TestCase("PPLCNetV3_base_rec")]
    public void Rep_fusion_keeps_eval_outputs_to_1e_5_and_leaves_one_conv_per_rep_layer(string name)
    {
        manual_seed(9);
        using var model = Build(name, "class_num: 10\n");
        ModelFusionTests.Randomize(model);
        model.eval();
        using var x = randn(2, 3, 64, 64);
        using var noGrad = no_grad();
        using var before = model.call(x);
        int repLayers = model.modules().OfType<LearnableRepLayer>().Count();

        int fused = ModelFusion.Fuse(model);
        using var after = model.call(x);

        Assert.That(fused, Is.GreaterThanOrEqualTo(repLayers));
        // Randomised BN statistics amplify the logits layer after layer; the error is measured against their scale.
        double scale = before.abs().max().item<float>();
        Assert.That(scale, Is.GreaterThan(1e-2), "the outputs are not trivially zero");
        Assert.That((before - after).abs().max().item<float>() / scale, Is.LessThan(1e-5));
        var keys = model.state_dict().Keys.ToList();
        Assert.That(keys.Where(k => k.Contains("conv_kxk") || k.Contains("conv_1x1") || k.Contains("identity") || k.Contains(".bn.")), Is.Empty);
        Assert.That(keys.Count(k => k.EndsWith("reparam_conv.weight", StringComparison.Ordinal)), Is.EqualTo(repLayers));
    }

    [Test]
    public void Identity_branch_folds_into_a_centred_one_hot_kernel()
    {
        manual_seed(4);
        using var layer = new LearnableRepLayer(4, 4, 3, 1, 4, numConvBranches: 1, lrMult: 1, labLr: 0.1);
        ModelFusionTests.Randomize(layer);
        layer.eval();
        using var x = randn(1, 4, 5, 5);
        using var noGrad = no_grad();
        using var before = layer.call(x);
        layer.Reparameterize();
        using var after = layer.call(x);

        Assert.That((before - after).abs().max().item<float>(), Is.LessThan(1e-5f));
        Assert.That(layer.IsReparameterized, Is.True);
    }

    [Test]
    public void LAB_parameters_train_at_lab_lr_times_the_stage_multiplier()
    {
        using var model = Build("PPLCNetV3_x0_35", "class_num: 10\nlr_mult_list: [0.5, 1.0, 1.0, 1.0, 1.0, 2.0]\n");
        var mult = model.LearningRateMultipliers();

        Assert.Multiple(() =>
        {
            Assert.That(mult["conv1.conv.weight"], Is.EqualTo(0.5));
            Assert.That(mult["blocks6.0.dw_conv.conv_kxk.0.conv.weight"], Is.EqualTo(2.0));
            Assert.That(mult["blocks6.0.dw_conv.lab.scale"], Is.EqualTo(0.2).Within(1e-12));
            Assert.That(mult["blocks2.0.pw_conv.act.lab.bias"], Is.EqualTo(0.1).Within(1e-12));
            Assert.That(mult["act.lab.scale"], Is.EqualTo(0.1).Within(1e-12), "the head's LAB: lab_lr");
            Assert.That(mult.ContainsKey("blocks3.0.dw_conv.conv_kxk.0.conv.weight"), Is.False, "multiplier 1 is not listed");
            Assert.That(mult.ContainsKey("fc.weight") || mult.ContainsKey("last_conv.weight"), Is.False);
        });
    }

    [Test]
    public void A_PaddleOCR_recognition_model_backbone_loads_by_its_names()
    {
        manual_seed(1);
        using var source = Build("PPLCNetV3_base_rec", "class_num: 10\n");
        ModelFusionTests.Randomize(source);
        manual_seed(2);
        using var target = Build("PPLCNetV3_base_rec", "class_num: 10\n");
        string[] head = ["last_conv.", "act.", "fc."];
        // A PaddleOCR rec model's file: the backbone under `backbone.`, then its own neck and head.
        var weights = WeightLoader.StateDict(source).Where(kv => !head.Any(kv.Key.StartsWith))
            .ToDictionary(kv => "backbone." + kv.Key, kv => kv.Value);
        weights["head.fc.weight"] = randn(96, 480);
        string path = Path.Combine(_dir, "ppocrv4_rec.pdparams");
        WeightFile.Write(path, weights, (name, _) => name == "head.fc.weight", "test");

        var (_, report) = WeightLoader.Load(new WeightRequest(path, "Arch.pretrained", target, PPLCNetV3.Preset, KeyPrefix: "backbone"),
            ClassifierPolicy.SkipWhenShapeDiffers, strict: false, _ => { }, _ => { });

        Assert.That(report.Unexpected, Is.Empty);
        Assert.That(report.Missing, Is.EquivalentTo(new[] { "last_conv.weight", "act.lab.scale", "act.lab.bias", "fc.weight", "fc.bias" }));
        Assert.That(report.Loaded, Is.EqualTo(weights.Count - 1));
        var loaded = target.state_dict();
        foreach (var (key, value) in source.state_dict().Where(kv => !head.Any(kv.Key.StartsWith)))
            Assert.That(loaded[key].allclose(value, rtol: 0, atol: 0), Is.True, key);
    }

    [Test]
    public void The_recognition_variant_refuses_a_stride_list()
    {
        var e = Assert.Throws<ConfigException>(() => Build("PPLCNetV3_base_rec", "class_num: 10\nstride_list: [2, 1, 2, 2, 2, 2]\n"))!;
        Assert.That(e.Message, Does.Contain("Arch.stride_list").And.Contain("recognition strides"));
    }

    [Test]
    public void A_stride_list_sets_conv1_and_each_stages_first_block()
    {
        using var model = Build("PPLCNetV3_x0_35", "class_num: 10\nstride_list: [1, 1, 2, 2, 2, 1]\n");
        model.eval();
        using var noGrad = no_grad();
        using var features = model.ForwardFeatures(randn(1, 3, 64, 64));

        Assert.That(features.shape, Is.EqualTo(new long[] { 1, 176, 8, 8 }), "64 / (1 * 2 * 2 * 2) with conv1 and blocks6 at stride 1");
        Assert.That(model.state_dict().Keys, Does.Contain("act1.lab.scale"), "conv1 at stride 1 is activated");
    }
}
