using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Engine;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Core.Optim;
using Ppcls.Models.Layers;
using Ppcls.Models.Swin;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>
/// Swin Transformer: sizes from the published configurations, the shifted-window attention against
/// a loop-by-loop recomputation, drop path, AdamW's exclusions, ONNX Runtime, and loading PaddleClas
/// and timm names.
/// </summary>
public sealed class SwinTransformerTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-swin-test-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static readonly ModelRegistry Registry = ModelZoo.CreateRegistry();

    static SwinTransformer Build(string name, string yaml = "class_num: 1000\n") =>
        (SwinTransformer)Registry.Get(name).Create(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "arch.yaml"), "Arch"));

    /// <summary>A small Swin through the same class: 16-wide, two blocks per stage, windows of <paramref name="window"/>.</summary>
    static SwinTransformer Small(int window = 2, int classNum = 10, double dropPath = 0.0, bool ape = false, int imgSize = 32) =>
        new(new SwinOptions(EmbedDim: 16, Depths: [2, 2, 2, 2], NumHeads: [2, 2, 4, 4], WindowSize: window, ImgSize: imgSize,
            ClassNum: classNum, DropPathRate: dropPath, Ape: ape));

    /// <summary>
    /// The count from the published configuration (embed dim C, depths, heads, window w, 1000 classes,
    /// mlp_ratio 4, qkv bias, patch 4, patch norm), term by term: patch embedding 48C + C + 2C; per
    /// block of width d and h heads, two LayerNorms 4d, qkv 3d^2 + 3d, the bias table (2w - 1)^2 h,
    /// proj d^2 + d, mlp 8d^2 + 5d; per merging of width d, LayerNorm 8d and reduction 8d^2; the
    /// final LayerNorm 2 * 8C and the head 8C * 1000 + 1000.
    /// </summary>
    static long PublishedCount(int c, int[] depths, int[] heads, int window)
    {
        long count = 48L * c + c + 2L * c;
        for (int s = 0; s < 4; s++)
        {
            long d = (long)c << s;
            long block = 4 * d + 3 * d * d + 3 * d + (2L * window - 1) * (2L * window - 1) * heads[s] + d * d + d + 8 * d * d + 5 * d;
            count += depths[s] * block;
            if (s < 3) count += 8 * d + 8 * d * d;
        }
        return count + 2 * 8L * c + 8L * c * 1000 + 1000;
    }

    // timm's model cards: 28.3 / 49.6 / 87.8 / 196.5 M at 224 (87.9 / 196.7 M for the 384 models, whose tables are larger).
    [TestCase("SwinTransformer_tiny_patch4_window7_224", 96, new[] { 2, 2, 6, 2 }, new[] { 3, 6, 12, 24 }, 7, 28.3)]
    [TestCase("SwinTransformer_small_patch4_window7_224", 96, new[] { 2, 2, 18, 2 }, new[] { 3, 6, 12, 24 }, 7, 49.6)]
    [TestCase("SwinTransformer_base_patch4_window7_224", 128, new[] { 2, 2, 18, 2 }, new[] { 4, 8, 16, 32 }, 7, 87.8)]
    [TestCase("SwinTransformer_base_patch4_window12_384", 128, new[] { 2, 2, 18, 2 }, new[] { 4, 8, 16, 32 }, 12, 87.9)]
    [TestCase("SwinTransformer_large_patch4_window7_224", 192, new[] { 2, 2, 18, 2 }, new[] { 6, 12, 24, 48 }, 7, 196.5)]
    [TestCase("SwinTransformer_large_patch4_window12_384", 192, new[] { 2, 2, 18, 2 }, new[] { 6, 12, 24, 48 }, 12, 196.7)]
    public void Parameter_count_is_the_count_of_the_published_configuration(string name, int c, int[] depths, int[] heads, int window, double timmM)
    {
        using var model = Build(name);
        long count = model.parameters().Sum(p => p.numel());

        Assert.That(count, Is.EqualTo(PublishedCount(c, depths, heads, window)));
        Assert.That(Math.Round(count / 1e6, 1, MidpointRounding.AwayFromZero), Is.EqualTo(timmM));
        Assert.That(model.state_dict().Keys.Where(k => !model.named_parameters().Any(p => p.name == k)), Is.Empty,
            "no persistent buffers: the relative position index and masks are derived");
    }

    [Test]
    public void State_dict_keys_are_PaddleClas_names()
    {
        using var model = Build("SwinTransformer_tiny_patch4_window7_224");
        var keys = model.state_dict().Keys.ToHashSet();

        Assert.That(keys, Is.SupersetOf(new[]
        {
            "patch_embed.proj.weight", "patch_embed.proj.bias", "patch_embed.norm.weight", "patch_embed.norm.bias",
            "layers.0.blocks.0.norm1.weight", "layers.0.blocks.0.attn.relative_position_bias_table", "layers.0.blocks.1.attn.qkv.weight",
            "layers.0.blocks.1.attn.qkv.bias", "layers.0.blocks.1.attn.proj.weight", "layers.0.blocks.1.norm2.bias",
            "layers.2.blocks.5.mlp.fc1.weight", "layers.2.blocks.5.mlp.fc2.bias",
            "layers.0.downsample.norm.weight", "layers.2.downsample.reduction.weight", "norm.weight", "norm.bias", "head.weight", "head.bias",
        }));
        Assert.That(keys.Where(k => k.StartsWith("layers.3.downsample", StringComparison.Ordinal)), Is.Empty, "the last stage does not merge");
        Assert.That(keys.Where(k => k.EndsWith("reduction.bias", StringComparison.Ordinal)), Is.Empty, "the reduction has no bias");
        Assert.That(keys.Where(k => k.Contains("relative_position_index") || k.Contains("attn_mask")), Is.Empty);
    }

    [Test]
    public void Drop_path_rates_grow_linearly_over_all_blocks_to_the_variants_rate()
    {
        using var model = Build("SwinTransformer_tiny_patch4_window7_224");
        var rates = model.Stages.SelectMany(s => s.Blocks).Select(b => b.DropPathProbability).ToList();

        Assert.That(rates, Has.Count.EqualTo(12));
        Assert.That(rates, Is.EqualTo(Enumerable.Range(0, 12).Select(i => 0.2 * i / 11)).Within(1e-12));
    }

    [Test]
    public void Drop_path_keeps_or_drops_whole_samples_and_keeps_the_expectation_in_training_and_is_the_identity_in_eval()
    {
        manual_seed(3);
        using var drop = new DropPath(0.3);
        using var x = full(20000, 2, 3, 1.5f);

        using (var y = drop.call(x))
        {
            var perSample = y.reshape(20000, -1);
            var zero = perSample.abs().sum(1).eq(0);
            var kept = perSample.sub(1.5 / 0.7).abs().max(1).values.lt(1e-5);
            Assert.That(zero.logical_or(kept).all().item<bool>(), Is.True, "each sample is dropped whole or scaled by 1 / (1 - p)");
            Assert.That(zero.to(ScalarType.Float64).mean().item<double>(), Is.EqualTo(0.3).Within(0.015));
            Assert.That(y.mean().item<float>(), Is.EqualTo(1.5).Within(0.04), "the expectation is the input");
        }
        drop.eval();
        using var same = drop.call(x);
        Assert.That(same.allclose(x, rtol: 0, atol: 0), Is.True);
    }

    /// <summary>
    /// One block (float64) against a recomputation by loops: LayerNorm, then for every token of the
    /// padded and rolled map the softmax over the keys of its window that lie in the same region of
    /// the shifted map (the -100 mask as exclusion), scores q.k / sqrt(d) plus the table entry of
    /// the pair's relative position, then proj, the residual, and the MLP with exact GELU.
    /// </summary>
    [TestCase(4, 4, 2, true)]
    [TestCase(5, 3, 2, true)]
    [TestCase(6, 6, 3, false)]
    [TestCase(3, 3, 3, true)]
    public void Block_output_matches_a_loop_recomputation_of_shifted_window_attention(int height, int width, int window, bool shifted)
    {
        manual_seed(11);
        const int dim = 8, heads = 2;
        using var block = new SwinTransformerBlock(dim, heads, window, shifted, mlpRatio: 2, qkvBias: true, qkScale: null, drop: 0, attnDrop: 0, dropPath: 0);
        block.to(ScalarType.Float64);
        var p = block.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        using (no_grad())
        {
            p["attn.relative_position_bias_table"].normal_(0, 1);
            p["norm1.weight"].normal_(1, 0.2);
            p["norm1.bias"].normal_(0, 0.2);
        }
        block.eval();
        using var x = randn(2, height, width, dim, dtype: ScalarType.Float64);
        using var actual = block.call(x);

        using var expected = Reference(x, p, window, shifted && Math.Min(height, width) > window ? window / 2 : 0, heads);
        Assert.That(actual.shape, Is.EqualTo(x.shape));
        Assert.That((actual - expected).abs().max().item<double>(), Is.LessThan(1e-10));
    }

    static Tensor Reference(Tensor x, IReadOnlyDictionary<string, TorchSharp.Modules.Parameter> p, int window, int shift, int heads)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], height = x.shape[1], width = x.shape[2], c = x.shape[3];
        int ph = (int)((height + window - 1) / window * window), pw = (int)((width + window - 1) / window * window);
        var normed = nn.functional.layer_norm(x, [c], p["norm1.weight"], p["norm1.bias"], 1e-5);
        var padded = zeros(b, ph, pw, c, dtype: ScalarType.Float64);
        padded[.., ..(int)height, ..(int)width, ..] = normed;
        var qkv = nn.functional.linear(padded, p["attn.qkv.weight"], p["attn.qkv.bias"]).data<double>().ToArray();
        var table = p["attn.relative_position_bias_table"].detach().data<double>().ToArray();
        int hd = (int)c / heads;
        double scale = 1 / Math.Sqrt(hd);
        int Region(int i, int length) => shift == 0 ? 0 : i < length - window ? 0 : i < length - shift ? 1 : 2;
        var outMap = new double[b * ph * pw * c];
        for (int n = 0; n < b; n++)
            for (int r = 0; r < ph; r++)
                for (int s = 0; s < pw; s++)
                {
                    // (r, s) on the rolled map holds the padded map's token ((r + shift) % ph, (s + shift) % pw).
                    int wr = r / window, ws = s / window;
                    var keys = new List<(int R, int S)>();
                    for (int kr = wr * window; kr < wr * window + window; kr++)
                        for (int ks = ws * window; ks < ws * window + window; ks++)
                            if (Region(kr, ph) == Region(r, ph) && Region(ks, pw) == Region(s, pw)) keys.Add((kr, ks));
                    int Source(int rr, int ss) => ((rr + shift) % ph) * pw + (ss + shift) % pw;
                    int query = Source(r, s);
                    for (int h = 0; h < heads; h++)
                    {
                        var scores = keys.Select(k =>
                        {
                            int key = Source(k.R, k.S);
                            double dot = 0;
                            for (int j = 0; j < hd; j++)
                                dot += qkv[((n * ph * pw + query) * 3 * c) + h * hd + j] * qkv[((n * ph * pw + key) * 3 * c) + c + h * hd + j];
                            int dr = r % window - k.R % window + window - 1, ds = s % window - k.S % window + window - 1;
                            return dot * scale + table[(dr * (2 * window - 1) + ds) * heads + h];
                        }).ToArray();
                        double max = scores.Max();
                        var weights = scores.Select(v => Math.Exp(v - max)).ToArray();
                        double total = weights.Sum();
                        for (int j = 0; j < hd; j++)
                        {
                            double sum = 0;
                            for (int k = 0; k < keys.Count; k++)
                                sum += weights[k] / total * qkv[((n * ph * pw + Source(keys[k].R, keys[k].S)) * 3 * c) + 2 * c + h * hd + j];
                            outMap[(n * ph * pw + query) * c + h * hd + j] = sum;
                        }
                    }
                }
        var attended = tensor(outMap, [b, ph, pw, c])[.., ..(int)height, ..(int)width, ..];
        var y = x + nn.functional.linear(attended, p["attn.proj.weight"], p["attn.proj.bias"]);
        var hidden = nn.functional.gelu(nn.functional.linear(nn.functional.layer_norm(y, [c], p["norm2.weight"], p["norm2.bias"], 1e-5), p["mlp.fc1.weight"], p["mlp.fc1.bias"]));
        return (y + nn.functional.linear(hidden, p["mlp.fc2.weight"], p["mlp.fc2.bias"])).MoveToOuterDisposeScope();
    }

    [Test]
    public void Patch_merging_joins_each_2x2_group_in_PaddleClas_order()
    {
        using var merging = new PatchMerging(1);
        var p = merging.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        using (no_grad())
        {
            // The reduction's rows pick the first two of the four normalised joined values.
            p["reduction.weight"].copy_(tensor(new float[] { 1, 0, 0, 0, 0, 1, 0, 0 }, [2, 4]));
        }
        // One channel, map values 0..15 on 4x4: token (i, j) = 4i + j.
        using var x = arange(16, dtype: ScalarType.Float32).view(1, 4, 4, 1);
        using var y = merging.call(x);
        // LayerNorm over the four joined values of a group (x0, x1, x2, x3) = (a, a + 4, a + 1, a + 5) for a = 8i' + 2j'
        // normalises them to the same (-1.0911, 0.4364, -0.4364, 1.0911) in every group; the rows pick x0 and x1.
        double mean = 2.5, std = Math.Sqrt((2.5 * 2.5 + 1.5 * 1.5 + 1.5 * 1.5 + 2.5 * 2.5) / 4 + 1e-5);
        Assert.That(y.shape, Is.EqualTo(new long[] { 1, 2, 2, 2 }));
        Assert.That(y[0, 1, 0].data<float>().ToArray(), Is.EqualTo(new[] { (float)((0 - mean) / std), (float)((4 - mean) / std) }).Within(1e-5));
    }

    [Test]
    public void AdamW_with_the_PaddleClas_exclusions_decays_only_the_matrices()
    {
        using var model = Small(ape: true);
        var yaml = YamlConfigReader.Read(new StringReader(
            "name: AdamW\nweight_decay: 0.05\nno_weight_decay_name: absolute_pos_embed relative_position_bias_table .bias norm\n" +
            "one_dim_param_no_weight_decay: True\nlr:\n  name: Constant\n  learning_rate: 0.1\n"), "optimizer.yaml");
        var config = OptimizerConfig.Read(new ConfigSection(yaml, "Optimizer"), _ => { });
        var rule = WeightDecayRule.From(config, _ => { });
        var decayed = model.named_parameters().Where(p => rule.For(p.name, p.parameter.shape) > 0).Select(p => p.name).ToList();

        Assert.That(decayed, Is.EquivalentTo(model.named_parameters()
            .Where(p => p.name.EndsWith(".weight", StringComparison.Ordinal) && p.parameter.dim() >= 2).Select(p => p.name)));
        Assert.That(decayed, Does.Not.Contain("absolute_pos_embed").And.Not.Contain("layers.0.blocks.0.attn.relative_position_bias_table"));
        Assert.That(decayed, Does.Contain("layers.0.blocks.0.attn.qkv.weight").And.Contain("head.weight").And.Contain("patch_embed.proj.weight"));
    }

    [TestCase(2, 32)]
    [TestCase(3, 40)]
    public void Onnx_runtime_matches_torchsharp(int window, int size)
    {
        manual_seed(5);
        using var model = Small(window, classNum: 10, ape: true, imgSize: size);
        using (no_grad())
            foreach (var (name, parameter) in model.named_parameters())
                if (name.EndsWith("relative_position_bias_table", StringComparison.Ordinal)) parameter.normal_(0, 1);
        var exporter = new OnnxExporter(model, _ => 0, "SwinSmall", 3, size, size);
        string path = Path.Combine(_dir, "swin.onnx");

        var (_, checks) = exporter.Export(path, 10, exporter.RandomInputs());

        foreach (var check in checks)
        {
            TestContext.Out.WriteLine(check);
            Assert.That(check.MaxAbsDifference, Is.LessThanOrEqualTo(ExportCheck.Tolerance), check.ToString());
            Assert.That(check.Top1Agreeing, Is.EqualTo(check.Images));
        }
        var ops = OnnxClassifierExport.Load(path).Graph.Node.Select(n => n.OpType).ToHashSet();
        Assert.That(ops, Is.SupersetOf(new[] { "LayerNormalization", "MatMul", "Softmax", "Gather", "Transpose", "Reshape", "Erf", "Pad" }));
    }

    [Test]
    public void Linear_weights_and_the_bias_tables_start_from_PaddleClas_truncated_normal()
    {
        manual_seed(5);
        using var model = Small();
        var drawn = model.named_parameters().Where(p => p.name.EndsWith("relative_position_bias_table", StringComparison.Ordinal)
            || p.name.EndsWith("qkv.weight", StringComparison.Ordinal) || p.name.EndsWith("fc1.weight", StringComparison.Ordinal) || p.name == "head.weight").ToList();

        Assert.That(drawn, Has.Count.EqualTo(4 * 2 * 3 + 1));
        foreach (var (name, p) in drawn)
            Assert.That(p.std().item<float>(), Is.GreaterThan(0.01f), $"{name} is drawn, not constant");
        using var all = cat(drawn.Select(p => p.parameter.flatten()).ToArray());
        // std 0.02 cut at +-0.04: that truncated normal's spread is 0.01759, and no value lies beyond the cut.
        Assert.That(all.std().item<float>(), Is.EqualTo(0.01759).Within(0.0002));
        Assert.That(all.abs().max().item<float>(), Is.LessThanOrEqualTo(0.04f));
    }

    [Test]
    public void Any_image_size_runs_and_the_features_are_a_map()
    {
        using var model = Small(window: 3);
        model.eval();
        using var noGrad = no_grad();
        using var features = model.ForwardFeatures(randn(1, 3, 52, 36));
        // 52x36 -> 13x9 patches -> 7x5 -> 4x3 -> 2x2 (odd sides padded before merging).
        Assert.That(features.shape, Is.EqualTo(new long[] { 1, 128, 2, 2 }));
    }

    [Test]
    public void PaddleClas_pdparams_load_with_their_relative_position_index()
    {
        manual_seed(1);
        using var source = Small();
        manual_seed(2);
        using var target = Small();
        var weights = WeightLoader.StateDict(source);
        // PaddleClas's state dict keeps the index buffer (Paddle's register_buffer is persistable).
        weights["layers.0.blocks.0.attn.relative_position_index"] = WindowAttention.RelativePositionIndex(2);
        string path = Path.Combine(_dir, "swin.pdparams");
        WeightFile.Write(path, weights, PaddleLayout.LinearWeightsOf(source), "test");

        var (_, report) = WeightLoader.Load(new WeightRequest(path, "Global.pretrained_model", target, Registry.Get("SwinTransformer_tiny_patch4_window7_224").Preset),
            ClassifierPolicy.MustFit, strict: true, _ => { }, _ => { });

        Assert.That(report.Clean, Is.True, WeightLoader.Describe(report));
        Assert.That(report.Loaded, Is.EqualTo(source.state_dict().Count));
        AssertSameOutputs(source, target);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Timm_safetensors_load_in_the_recent_and_the_original_layout(bool recent)
    {
        manual_seed(1);
        using var source = Small();
        manual_seed(2);
        using var target = Small();
        var weights = WeightLoader.StateDict(source).ToDictionary(kv => recent ? TimmSwinNames.ToTimm(kv.Key) : kv.Key, kv => kv.Value);
        if (!recent) weights["layers.0.blocks.1.attn_mask"] = zeros(16, 4, 4); // the original code saved its masks
        Assert.That(weights.Keys, recent ? Does.Contain("layers.1.downsample.reduction.weight").And.Contain("head.fc.weight").And.Not.Contain("layers.0.downsample.norm.weight")
            : Does.Contain("layers.0.downsample.reduction.weight"));
        string path = Path.Combine(_dir, "model.safetensors");
        SafeTensorsFile.Write(path, weights);

        var (_, report) = WeightLoader.Load(new WeightRequest(path, "Arch.pretrained", target, Registry.Get("SwinTransformer_tiny_patch4_window7_224").Preset),
            ClassifierPolicy.MustFit, strict: true, _ => { }, _ => { });

        Assert.That(report.Clean, Is.True, WeightLoader.Describe(report));
        AssertSameOutputs(source, target);
    }

    static void AssertSameOutputs(nn.Module<Tensor, Tensor> a, nn.Module<Tensor, Tensor> b)
    {
        a.eval();
        b.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 32, 32);
        Assert.That(a.call(x).allclose(b.call(x), rtol: 0, atol: 0), Is.True);
    }

    [Test]
    public void The_384_variants_refuse_a_second_img_size()
    {
        var e = Assert.Throws<ConfigException>(() => Build("SwinTransformer_base_patch4_window12_384", "class_num: 10\nimg_size: 224\n"))!;
        Assert.That(e.Message, Does.Contain("Arch.img_size").And.Contain("sets img_size to 384 itself"));
    }
}
