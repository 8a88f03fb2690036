using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Engine;
using Ppcls.Core.Models;
using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>
/// ResNet_vd and Res2Net_vd, the teachers of PaddleClas's distillation configs: their state-dict keys and
/// sizes worked out here from PaddleClas's layer configuration (resnet.py NET_CONFIG, res2net_vd.py),
/// independently of the module tree, beside the published tables; the vd pool against a float64
/// recomputation; loading a file written in PaddleClas's own keys and layout; the ONNX twins of the blocks.
/// </summary>
public sealed class ResNetVdTests
{
    static readonly ModelRegistry Registry = ModelZoo.CreateRegistry();

    static nn.Module<Tensor, Tensor> Build(string name, string yaml = "") =>
        Registry.Get(name).Create(yaml.Length == 0 ? ConfigSection.Empty("Arch")
            : new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "Arch"));

    // ---- PaddleClas's key lists and sizes, from the layer configuration -------------------------

    /// <summary>One conv + BN unit: its keys and parameter count (BN statistics are buffers, not counted).</summary>
    static IEnumerable<(string Key, long Params)> Unit(string prefix, long k, long cin, long cout, string conv = "conv", string bn = "bn") =>
    [
        ($"{prefix}.{conv}.weight", k * k * cin * cout),
        ($"{prefix}.{bn}.weight", cout), ($"{prefix}.{bn}.bias", cout), ($"{prefix}.{bn}._mean", 0), ($"{prefix}.{bn}._variance", 0),
    ];

    /// <summary>PaddleClas's ResNet (vd) as resnet.py lays it out: stem.{0,1,2}, blocks.{i}.conv0/1(/2)/short, fc.</summary>
    static List<(string Key, long Params)> ResNetLayout(int[] depths, bool bottleneck, int classes)
    {
        var keys = new List<(string, long)>();
        keys.AddRange(Unit("stem.0", 3, 3, 32));
        keys.AddRange(Unit("stem.1", 3, 32, 32));
        keys.AddRange(Unit("stem.2", 3, 32, 64));
        long[] widths = [64, 128, 256, 512];
        long cin = 64;
        int index = 0;
        for (int s = 0; s < 4; s++)
            for (int b = 0; b < depths[s]; b++, index++)
            {
                long w = widths[s], cout = bottleneck ? 4 * w : w;
                string p = $"blocks.{index}";
                if (bottleneck)
                {
                    keys.AddRange(Unit(p + ".conv0", 1, cin, w));
                    keys.AddRange(Unit(p + ".conv1", 3, w, w));
                    keys.AddRange(Unit(p + ".conv2", 1, w, cout));
                }
                else
                {
                    keys.AddRange(Unit(p + ".conv0", 3, cin, w));
                    keys.AddRange(Unit(p + ".conv1", 3, w, w));
                }
                if (b == 0) keys.AddRange(Unit(p + ".short", 1, cin, cout));
                cin = cout;
            }
        keys.Add(("fc.weight", cin * classes));
        keys.Add(("fc.bias", classes));
        return keys;
    }

    /// <summary>PaddleClas's Res2Net_vd: conv1_{1,2,3}, bb_{stage}_{i} with conv0, res{..}_branch2b_{1..3}, conv2, short; out.</summary>
    static List<(string Key, long Params)> Res2NetLayout(int[] depths, int classes)
    {
        var keys = new List<(string, long)>();
        keys.AddRange(Unit("conv1_1", 3, 3, 32, "_conv", "_batch_norm"));
        keys.AddRange(Unit("conv1_2", 3, 32, 32, "_conv", "_batch_norm"));
        keys.AddRange(Unit("conv1_3", 3, 32, 64, "_conv", "_batch_norm"));
        long[] outs = [256, 512, 1024, 2048];
        long cin = 64;
        for (int s = 0; s < 4; s++)
            for (int i = 0; i < depths[s]; i++)
            {
                long w = 104L << s, g = w / 4;
                string p = $"bb_{s}_{i}";
                string conv = depths[2] > 6 && s == 2 ? (i == 0 ? "res4a" : $"res4b{i}") : $"res{s + 2}{(char)('a' + i)}";
                keys.AddRange(Unit(p + ".conv0", 1, cin, w, "_conv", "_batch_norm"));
                for (int b = 1; b <= 3; b++) keys.AddRange(Unit($"{p}.{conv}_branch2b_{b}", 3, g, g, "_conv", "_batch_norm"));
                keys.AddRange(Unit(p + ".conv2", 1, w, outs[s], "_conv", "_batch_norm"));
                if (i == 0) keys.AddRange(Unit(p + ".short", 1, cin, outs[s], "_conv", "_batch_norm"));
                cin = outs[s];
            }
        keys.Add(("out.weight", cin * classes));
        keys.Add(("out.bias", classes));
        return keys;
    }

    static List<(string Key, long Params)> Layout(string name, int classes) => name switch
    {
        "ResNet18_vd" => ResNetLayout([2, 2, 2, 2], false, classes),
        "ResNet34_vd" => ResNetLayout([3, 4, 6, 3], false, classes),
        "ResNet50_vd" => ResNetLayout([3, 4, 6, 3], true, classes),
        "ResNet101_vd" => ResNetLayout([3, 4, 23, 3], true, classes),
        "ResNet152_vd" => ResNetLayout([3, 8, 36, 3], true, classes),
        "ResNet200_vd" => ResNetLayout([3, 12, 48, 3], true, classes),
        "Res2Net50_vd_26w_4s" => Res2NetLayout([3, 4, 6, 3], classes),
        "Res2Net101_vd_26w_4s" => Res2NetLayout([3, 4, 23, 3], classes),
        "Res2Net200_vd_26w_4s" => Res2NetLayout([3, 12, 48, 3], classes),
        _ => throw new ArgumentException(name),
    };

    /// <summary>
    /// Trainable parameters at 1000 classes: the count worked out from the layer configuration, exactly,
    /// and PaddleClas's published Params (M) to the decimals given here. ResNet_vd:
    /// docs/en/models/ResNet_and_vd_en.md prints 11.710 / 21.820 / 25.580 / 44.570 / 60.210 / 74.740, two
    /// decimals of which hold. Res2Net_vd: docs/en/models/SEResNext_and_Res2Net_en.md prints 45.220 and
    /// 76.210 for 101 and 200: the counts 45,225,920 and 76,215,536 truncated (not rounded) to two decimals; its 25.060 for
    /// Res2Net50_vd_26w_4s matches no counting (the same table gives the plain Res2Net50_26w_4s 25.700,
    /// and the vd stem only adds parameters): not asserted (null).
    /// </summary>
    [TestCase("ResNet18_vd", 11.71, false)]
    [TestCase("ResNet34_vd", 21.82, false)]
    [TestCase("ResNet50_vd", 25.58, false)]
    [TestCase("ResNet101_vd", 44.57, false)]
    [TestCase("ResNet152_vd", 60.21, false)]
    [TestCase("ResNet200_vd", 74.74, false)]
    [TestCase("Res2Net50_vd_26w_4s", null, false)]
    [TestCase("Res2Net101_vd_26w_4s", 45.22, true)]
    [TestCase("Res2Net200_vd_26w_4s", 76.21, true)]
    public void Trainable_parameters_match_the_layer_configuration_and_the_published_table(string name, double? publishedM, bool truncated)
    {
        using var model = Build(name);
        long trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        long expected = Layout(name, 1000).Sum(k => k.Params);
        TestContext.Out.WriteLine($"{name}: {trainable:N0} trainable parameters");
        Assert.Multiple(() =>
        {
            Assert.That(trainable, Is.EqualTo(expected), "count from the layer configuration");
            if (publishedM is { } published)
                Assert.That(truncated ? Math.Floor(trainable / 1e4) / 100 : Math.Round(trainable / 1e6, 2, MidpointRounding.AwayFromZero),
                    Is.EqualTo(published), "published Params (M)");
        });
    }

    [TestCase("ResNet18_vd")]
    [TestCase("ResNet50_vd")]
    [TestCase("ResNet101_vd")]
    [TestCase("Res2Net50_vd_26w_4s")]
    [TestCase("Res2Net101_vd_26w_4s")]
    public void State_dict_keys_and_shapes_are_PaddleClas_names(string name)
    {
        using var model = Build(name, "class_num: 10");
        var state = model.state_dict();
        var expected = Layout(name, 10);
        Assert.That(state.Keys, Is.EquivalentTo(expected.Select(k => k.Key)));
        Assert.That(expected.Where(k => k.Params > 0 && state[k.Key].numel() != k.Params).Select(k => k.Key), Is.Empty, "tensors of the wrong size");
    }

    // ---- the vd shortcut and Res2Net's hierarchical groups, numerically --------------------------

    /// <summary>
    /// Paddle's AvgPool2D(2, [sh, sw], "SAME", exclusive) by loops, in float64: ceil(n / s) windows per axis,
    /// the odd padding pixel after, each window averaging the input pixels it covers.
    /// </summary>
    static double[,] ExclusiveSameAvgPool2x2(double[,] x, int sh, int sw)
    {
        int h = x.GetLength(0), w = x.GetLength(1), oh = (h + sh - 1) / sh, ow = (w + sw - 1) / sw;
        int top = Math.Max((oh - 1) * sh + 2 - h, 0) / 2, left = Math.Max((ow - 1) * sw + 2 - w, 0) / 2;
        var y = new double[oh, ow];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                double sum = 0;
                int n = 0;
                for (int a = i * sh - top; a < i * sh - top + 2; a++)
                    for (int b = j * sw - left; b < j * sw - left + 2; b++)
                        if (a >= 0 && a < h && b >= 0 && b < w) { sum += x[a, b]; n++; }
                y[i, j] = sum / n;
            }
        return y;
    }

    [TestCase(8, 2, 2)]
    [TestCase(7, 2, 2)]
    [TestCase(8, 2, 1)]
    [TestCase(7, 2, 1)]
    public void The_vd_shortcut_averages_each_covered_window_then_applies_the_1x1_conv_and_BN(int size, int sh, int sw)
    {
        manual_seed(3);
        using var unit = new VdConvBN(2, 3, 1, new Stride2d(sh, sw), poolFirst: true);
        ModelFusionTests.Randomize(unit);
        unit.eval();
        using var scope = NewDisposeScope();
        var x = randn(1, 2, size, size, dtype: ScalarType.Float64);
        unit.to(ScalarType.Float64);
        Tensor y;
        using (no_grad()) y = unit.call(x);

        var w = unit.Conv.weight!.data<double>().ToArray();
        var bn = unit.Bn!;
        var (gamma, beta, mean, variance) = (bn.Weight.data<double>().ToArray(), bn.Bias.data<double>().ToArray(),
            bn.RunningMean.data<double>().ToArray(), bn.RunningVariance.data<double>().ToArray());
        var pooled = Enumerable.Range(0, 2).Select(c =>
        {
            var plane = new double[size, size];
            for (int i = 0; i < size; i++) for (int j = 0; j < size; j++) plane[i, j] = x[0, c, i, j].item<double>();
            return ExclusiveSameAvgPool2x2(plane, sh, sw);
        }).ToArray();
        int oh = (size + sh - 1) / sh, ow = (size + sw - 1) / sw;
        Assert.That(y.shape, Is.EqualTo(new long[] { 1, 3, oh, ow }));
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double conv = w[o * 2] * pooled[0][i, j] + w[o * 2 + 1] * pooled[1][i, j];
                    double expected = (conv - mean[o]) / Math.Sqrt(variance[o] + bn.Epsilon) * gamma[o] + beta[o];
                    Assert.That(y[0, o, i, j].item<double>(), Is.EqualTo(expected).Within(1e-9), $"[{o}, {i}, {j}]");
                }
    }

    /// <summary>PULC's text-line teacher: ResNet101_vd with stride_list [2, [2, 1], [2, 1], [2, 1], [2, 1]] keeps the width from the max pool on.</summary>
    [Test]
    public void A_stride_list_of_height_only_strides_keeps_the_width_after_the_stem()
    {
        manual_seed(4);
        using var model = Build("ResNet18_vd", "class_num: 3\nstride_list: [2, [2, 1], [2, 1], [2, 1], [2, 1]]");
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var features = ((IClassifierModel)model).ForwardFeatures(randn(1, 3, 64, 64));
        Assert.That(features.shape, Is.EqualTo(new long[] { 1, 512, 64 / 32, 64 / 2 }), "height / 32, width / 2 (the stem only)");
        Assert.That(model.call(randn(1, 3, 48, 64)).shape, Is.EqualTo(new long[] { 1, 3 }));
    }

    /// <summary>
    /// Res2Net's block by its definition, from its own units: split conv0's output into four groups,
    /// y1 = K1(x1), y2 = K2(x2 + y1), y3 = K3(x3 + y2), y4 = x4, concatenate, conv2, add the projection, ReLU
    /// (stride 1); at stride 2 no group is added to the next and x4 is average-pooled (3x3, pad 1, exclusive).
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    public void A_Res2Net_block_adds_each_group_to_the_next_only_when_it_keeps_its_size(int stride)
    {
        manual_seed(5);
        using var block = new Res2NetBottleneckBlock("res3a", 8, 16, 8, stride, 4, projection: true, poolShortcut: stride == 2);
        ModelFusionTests.Randomize(block);
        block.eval();
        block.to(ScalarType.Float64);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(2, 8, 7, 7, dtype: ScalarType.Float64);
        var units = block.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);

        var groups = units["conv0"].call(x).chunk(4, 1);
        var y1 = units["res3a_branch2b_1"].call(groups[0]);
        var y2 = units["res3a_branch2b_2"].call(stride == 1 ? groups[1] + y1 : groups[1]);
        var y3 = units["res3a_branch2b_3"].call(stride == 1 ? groups[2] + y2 : groups[2]);
        var y4 = stride == 1 ? groups[3] : nn.functional.avg_pool2d(groups[3], 3, 2, 1, count_include_pad: false);
        var expected = nn.functional.relu(units["conv2"].call(cat([y1, y2, y3, y4], 1)) + units["short"].call(x));

        var actual = block.call(x);
        Assert.That(actual.shape, Is.EqualTo(new long[] { 2, 16, stride == 1 ? 7 : 4, stride == 1 ? 7 : 4 }));
        Assert.That(actual.allclose(expected, rtol: 0, atol: 1e-12), Is.True);
    }

    // ---- options ---------------------------------------------------------------------------------

    [Test]
    public void Lr_mult_list_scales_the_stem_and_each_stage_and_leaves_fc_at_the_base_rate()
    {
        using var model = (ResNetVd)Build("ResNet18_vd", "lr_mult_list: [0.1, 0.2, 0.3, 0.4, 0.5]");
        var m = model.LearningRateMultipliers();
        Assert.Multiple(() =>
        {
            Assert.That(m["stem.2.bn.weight"], Is.EqualTo(0.1));
            Assert.That(m["blocks.1.conv1.conv.weight"], Is.EqualTo(0.2), "blocks 0-1: stage 1");
            Assert.That(m["blocks.2.short.conv.weight"], Is.EqualTo(0.3), "blocks 2-3: stage 2");
            Assert.That(m["blocks.7.conv0.bn.bias"], Is.EqualTo(0.5), "blocks 6-7: stage 4");
            Assert.That(m.ContainsKey("fc.weight"), Is.False);
        });
    }

    [Test]
    public void Stem_act_null_leaves_the_stem_without_ReLU()
    {
        manual_seed(9);
        using var plain = Build("ResNet18_vd", "stem_act: null");
        plain.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var stem = (nn.Module<Tensor, Tensor>)plain.named_children().First(c => c.name == "stem").module;
        Assert.That(stem.call(randn(2, 3, 16, 16)).lt(0).any().item<bool>(), Is.True, "negative values pass the stem");
    }

    [TestCase("lr_mult_list: [1.0, 1.0]", "Arch.lr_mult_list", "5 multipliers")]
    [TestCase("stride_list: [2, 2, 2]", "Arch.stride_list", "5 strides")]
    [TestCase("layer_type: DiverseBranchBlock", "Arch.layer_type", "ConvBNLayer")]
    [TestCase("use_first_short_conv: False", "Arch.use_first_short_conv", "True")]
    [TestCase("stem_act: hardswish", "Arch.stem_act", "relu")]
    public void Options_that_would_train_another_network_are_refused_naming_the_key(string yaml, string key, string hint)
    {
        var ex = Assert.Throws<ConfigException>(() => Build("ResNet50_vd", yaml));
        Assert.That(ex!.Message, Does.StartWith(key).And.Contain(hint));
    }

    // ---- PaddleClas weights by name ---------------------------------------------------------------

    /// <summary>
    /// A `.pdparams` written as PaddleClas saves Res2Net50_vd / ResNet18_vd (its keys, `_mean` / `_variance`,
    /// Linear weights [in, out]) loads through the one WeightLoader path, every tensor where it belongs.
    /// </summary>
    [TestCase("ResNet18_vd", "fc.weight")]
    [TestCase("Res2Net50_vd_26w_4s", "out.weight")]
    public void A_pdparams_file_in_PaddleClas_keys_and_layout_loads_by_name(string name, string classifier)
    {
        string dir = Directory.CreateTempSubdirectory("ppcls-resnet-vd-").FullName;
        try
        {
            manual_seed(13);
            using var model = Build(name, "class_num: 6");
            using var scope = NewDisposeScope();
            var paddle = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (key, _) in Layout(name, 6))
            {
                var shape = model.state_dict()[key].shape;
                paddle[key] = key == classifier ? rand(shape[1], shape[0]) : rand(shape).add_(0.5);
            }
            string path = Path.Combine(dir, "teacher.pdparams");
            WeightFile.Write(path, paddle, (_, _) => false, "PaddleClas layout"); // already in Paddle layout: nothing to transpose

            var (file, report) = WeightLoader.Load(new WeightRequest(Path.Combine(dir, "teacher"), "Arch.pretrained", model, Registry.Get(name).Preset),
                ClassifierPolicy.MustFit, strict: true, _ => { }, _ => { });

            Assert.That(file, Is.EqualTo(path));
            Assert.That(report.Clean, Is.True, WeightLoader.Describe(report));
            var loaded = model.state_dict();
            Assert.That(loaded[classifier].allclose(paddle[classifier].t(), 0, 0), Is.True, "the Linear weight is transposed from Paddle's [in, out]");
            Assert.That(paddle.Keys.Where(k => k != classifier && !loaded[k].allclose(paddle[k], 0, 0)), Is.Empty, "tensors loaded elsewhere than their key");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
