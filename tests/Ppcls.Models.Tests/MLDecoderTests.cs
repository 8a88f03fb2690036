using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Engine;
using Ppcls.Core.Models;
using Ppcls.Models.Heads;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>Arch.use_ml_decoder: PaddleClas's ML-Decoder head in the classifier's place, its key names, numerics and ONNX twin.</summary>
public sealed class MLDecoderTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-mldecoder-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>A small head: 5 classes over 3 queries (groups of 2, the last output cut), embed 16, 4 heads, hidden 24.</summary>
    const string SmallHead = "{query_num: 3, in_channels: IN, embed_dim: 16, num_heads: 4, mlp_hidden_dim: 24}";

    static BuiltModel Build(string name, int inChannels, string head = SmallHead, int classNum = 5)
    {
        var arch = YamlConfigReader.Read(new StringReader($"name: {name}\nclass_num: {classNum}\nuse_ml_decoder: True\n"), "t.yaml");
        var decoder = YamlConfigReader.Read(new StringReader(head.Replace("IN", inChannels.ToString())), "t.yaml");
        var config = ArchConfig.Read(new ConfigSection(arch, "Arch")) with { MlDecoder = new ConfigSection(decoder, "MLDecoder") };
        return ModelBuilder.BuildWithPreset(config, ModelZoo.CreateRegistry(), _ => { });
    }

    [Test]
    public void The_head_takes_fc_keys_with_PaddleClas_names_and_the_published_parameter_count()
    {
        using var model = Build("PPLCNet_x0_25", 1280).Module;
        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);

        Assert.That(shapes.Keys, Does.Not.Contain("fc.weight"));
        Assert.That(shapes["fc.input_proj.weight"], Is.EqualTo(new long[] { 16, 1280, 1, 1 }));
        Assert.That(shapes["fc.query_pos_embed.weight"], Is.EqualTo(new long[] { 3, 16 }));
        Assert.That(shapes["fc.decoder.layers.0.cross_attn.q_proj.weight"], Is.EqualTo(new long[] { 16, 16 }));
        Assert.That(shapes["fc.decoder.layers.0.cross_attn.out_proj.bias"], Is.EqualTo(new long[] { 16 }));
        Assert.That(shapes["fc.decoder.layers.0.linear1.weight"], Is.EqualTo(new long[] { 24, 16 }));
        Assert.That(shapes["fc.decoder.layers.0.norm3.weight"], Is.EqualTo(new long[] { 16 }));
        Assert.That(shapes["fc.group_conv.weight"], Is.EqualTo(new long[] { 6, 16, 1, 1 }));
        Assert.That(shapes.Keys.Where(k => k.Contains("self_attn")), Is.Empty);
        // input_proj, queries, 4 attention projections, the MLP, 3 LayerNorms, grouped FC (2 outputs per query).
        long head = 1280 * 16 + 16 + 3 * 16 + 4 * (16 * 16 + 16) + (16 * 24 + 24) + (24 * 16 + 16) + 3 * 2 * 16 + 6 * 16 + 6;
        long backbone = shapes.Where(kv => !kv.Key.StartsWith("fc.", StringComparison.Ordinal)).Sum(kv => kv.Value.Aggregate(1L, (a, b) => a * b));
        Assert.That(shapes.Where(kv => kv.Key.StartsWith("fc.", StringComparison.Ordinal)).Sum(kv => kv.Value.Aggregate(1L, (a, b) => a * b)), Is.EqualTo(head));
        // Everything else is the plain network's, less its fc (1280 x 5 + 5); no avg_pool or flatten parameters exist to lose.
        using var plain = ModelZoo.CreateRegistry().Get("PPLCNet_x0_25").Create(new ConfigSection(new ConfigMap { ["class_num"] = new ConfigScalar("5") }, "Arch"));
        Assert.That(backbone, Is.EqualTo(plain.parameters().Sum(p => p.numel()) - (1280 * 5 + 5)));
        Assert.That(model.named_parameters().Single(p => p.name == "fc.query_pos_embed.weight").parameter.requires_grad, Is.False, "freeze_query_embed");
    }

    [Test]
    public void The_head_computes_PaddleClas_decoder_formula_on_its_own_weights_in_float64()
    {
        manual_seed(3);
        var options = new MLDecoderOptions(5, InChannels: 6, QueryNum: 3, EmbedDim: 8, NumHeads: 2, MlpHiddenDim: 10);
        using var head = new MLDecoder(options);
        head.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(2, 6, 3, 2);

        var logits = head.call(x);

        var w = head.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float64));
        Tensor Lin(Tensor t, string name) => t.matmul(w[name + ".weight"].t()) + w[name + ".bias"];
        Tensor Norm(Tensor t, string name)
        {
            var mean = t.mean([-1], keepdim: true);
            var variance = (t - mean).pow(2).mean([-1], keepdim: true);
            return (t - mean) / (variance + 1e-5).sqrt() * w[name + ".weight"] + w[name + ".bias"];
        }
        Tensor Split(Tensor t) => t.reshape(2, t.shape[1], 2, 4).transpose(1, 2);
        var x64 = x.to_type(ScalarType.Float64);
        var memory = nn.functional.relu(nn.functional.conv2d(x64, w["input_proj.weight"], w["input_proj.bias"])).flatten(2).transpose(1, 2);
        var t = w["query_pos_embed.weight"].unsqueeze(0).expand(2, -1, -1);
        const string layer = "decoder.layers.0";
        t = Norm(t + t, $"{layer}.norm1");   // the self-attention is the identity: t + t
        var q = Split(Lin(t, $"{layer}.cross_attn.q_proj")) / Math.Sqrt(4);
        var k = Split(Lin(memory, $"{layer}.cross_attn.k_proj"));
        var v = Split(Lin(memory, $"{layer}.cross_attn.v_proj"));
        var attended = q.matmul(k.transpose(-1, -2)).softmax(-1).matmul(v).transpose(1, 2).reshape(2, 3, 8);
        t = Norm(t + Lin(attended, $"{layer}.cross_attn.out_proj"), $"{layer}.norm2");
        t = Norm(t + Lin(nn.functional.relu(Lin(t, $"{layer}.linear1")), $"{layer}.linear2"), $"{layer}.norm3");
        // Group FC: query i's embedding times its own [2, 8] block of the grouped 1x1 conv; 6 outputs cut to 5.
        var groups = w["group_conv.weight"].reshape(3, 2, 8);
        var expected = (groups.unsqueeze(0) * t.unsqueeze(2)).sum(-1).reshape(2, 6) + w["group_conv.bias"];

        Assert.That(logits.shape, Is.EqualTo(new long[] { 2, 5 }));
        Assert.That((logits.to_type(ScalarType.Float64) - expected[.., ..5]).abs().max().item<double>(), Is.LessThan(1e-5));
    }

    [TestCase("PPLCNet_x0_25", 1280)]
    [TestCase("PPHGNetV2_B0", 2048)]
    [TestCase("PPLCNetV2_small", 1280)]
    [TestCase("PPHGNet_tiny", 2048)]
    public void The_network_with_its_ML_Decoder_exports_to_ONNX_and_matches_in_onnx_runtime(string name, int inChannels)
    {
        manual_seed(5);
        using var model = Build(name, inChannels).Module;
        ModelFusionTests.Randomize(model);
        var exporter = new OnnxExporter(model, ModelFusion.Fuse, name, 3, 64, 64, embedding: true);

        var (_, checks) = exporter.Export(Path.Combine(_dir, "model.onnx"), 0, exporter.RandomInputs());

        Assert.That(exporter.OutputWidth, Is.EqualTo(5));
        foreach (var check in checks) Assert.That(check.Passed, Is.True, check.ToString());
    }

    [Test]
    public void A_wrong_in_channels_names_the_key_and_the_channels_the_head_gives()
    {
        var error = Assert.Throws<ConfigException>(() => Build("PPLCNet_x0_25", 2048))!;
        Assert.That(error.Message, Does.StartWith("MLDecoder.in_channels").And.Contain("gives 1280 channels").And.Contain("set in_channels: 1280"));
    }

    [Test]
    public void A_family_without_a_pooled_head_and_a_deeper_decoder_are_refused_with_the_key()
    {
        var family = Assert.Throws<ConfigException>(() => Build("MobileNetV2_x0_25", 1280))!;
        Assert.That(family.Message, Does.StartWith("Arch.use_ml_decoder").And.Contain("use PPHGNet, PPHGNetV2, PPLCNet or PPLCNetV2"));
        var depth = Assert.Throws<ConfigException>(() => Build("PPLCNet_x0_25", 1280, "{in_channels: 1280, depth: 2}"))!;
        Assert.That(depth.Message, Does.StartWith("MLDecoder.depth").And.Contain("set depth: 1"));
    }
}
