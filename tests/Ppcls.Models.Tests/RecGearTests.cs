using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Engine;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Gears;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>RecModel's necks and heads (PaddleClas's gears): margins against their formulas in float64, names, ParamAttr, ONNX.</summary>
public sealed class RecGearTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-gear-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static RecModel BuildRec(string yaml) => (RecModel)Built(yaml).Module;

    static BuiltModel Built(string yaml)
    {
        var root = new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "");
        return ModelBuilder.BuildWithPreset(ArchConfig.Read(root.RequiredSection("Arch", "")), ModelZoo.CreateRegistry(), _ => { });
    }

    static ConfigException Refused(string yaml) => Assert.Throws<ConfigException>(() => Built(yaml))!;

    static string Rec(string neck, string head) => $"""
        Arch:
          name: RecModel
          Backbone: {"{"}name: PPLCNet_x0_25, class_num: 4{"}"}
          BackboneStopLayer: {"{"}name: flatten{"}"}
          Neck: {neck}
          Head: {head}
        """;

    /// <summary>cos(x_i, w_j) for the head's weight, in float64 from plain arrays.</summary>
    static double[,] Cosines(double[][] x, Tensor weight)
    {
        var w = weight.detach().to(ScalarType.Float64).data<double>().ToArray();
        long d = weight.shape[0], c = weight.shape[1];
        var cos = new double[x.Length, c];
        for (int i = 0; i < x.Length; i++)
            for (int j = 0; j < c; j++)
            {
                double dot = 0, nx = 0, nw = 0;
                for (int k = 0; k < d; k++)
                {
                    double wk = w[k * c + j];
                    dot += x[i][k] * wk;
                    nx += x[i][k] * x[i][k];
                    nw += wk * wk;
                }
                cos[i, j] = dot / Math.Sqrt(nx) / Math.Sqrt(nw);
            }
        return cos;
    }

    static double ArcTarget(double cos, double m, bool easy)
    {
        double phi = cos * Math.Cos(m) - Math.Sqrt(1 - cos * cos + 1e-6) * Math.Sin(m);
        if (easy) return cos > 0 ? phi : cos;
        return cos > Math.Cos(Math.PI - m) ? phi : cos - Math.Sin(m) * m;
    }

    static double CircleLogit(double cos, double m, bool target) =>
        target ? Math.Max(0, 1 + m - cos) * (cos - (1 - m)) : Math.Max(0, cos + m) * (cos - m);

    [TestCase("ArcMargin", false)]
    [TestCase("ArcMargin", true)]
    [TestCase("CosMargin", false)]
    [TestCase("CircleMargin", false)]
    public void A_margin_head_moves_the_target_cosine_by_its_formula_in_training_and_gives_plain_cosines_in_eval(string name, bool easy)
    {
        manual_seed(3);
        const double m = 0.4, s = 16;
        var head = new MarginHead(name, 6, 5, name switch
        {
            "ArcMargin" => new ArcMargin(m, s, easy),
            "CosMargin" => new CosMargin(m, s),
            _ => new CircleMargin(m, s),
        });
        // Rows chosen to include cosines of both signs and near -1 (ArcMargin's fallback branch).
        var x = randn(8, 6);
        x[7] = head.Weight.detach().select(1, 2).neg() + 0.01 * randn(6);
        var rows = Enumerable.Range(0, 8).Select(i => x[i].to(ScalarType.Float64).data<double>().ToArray()).ToArray();
        long[] labels = [0, 1, 2, 3, 4, 0, 1, 2];
        var cos = Cosines(rows, head.Weight);

        head.train();
        var logits = head.Forward(x, tensor(labels)).to(ScalarType.Float64).data<double>().ToArray();
        head.eval();
        var plain = head.Forward(x, tensor(labels)).to(ScalarType.Float64).data<double>().ToArray();

        Assert.That(cos[7, 2], Is.LessThan(-Math.Cos(m)), "one target cosine takes the fallback branch");
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 5; j++)
            {
                bool target = labels[i] == j;
                double expected = name switch
                {
                    "ArcMargin" => s * (target ? ArcTarget(cos[i, j], m, easy) : cos[i, j]),
                    "CosMargin" => s * (target ? cos[i, j] - m : cos[i, j]),
                    _ => s * CircleLogit(cos[i, j], m, target),
                };
                Assert.That(logits[i * 5 + j], Is.EqualTo(expected).Within(2e-4 * s), $"train logit [{i}, {j}]");
                Assert.That(plain[i * 5 + j], Is.EqualTo(cos[i, j]).Within(1e-5), $"eval cosine [{i}, {j}]");
            }
    }

    [Test]
    public void A_recmodel_hands_the_labels_to_its_margin_head_in_training_only()
    {
        manual_seed(2);
        var model = BuildRec(Rec("{name: FC, embedding_size: 1280, class_num: 8}", "{name: ArcMargin, embedding_size: 8, class_num: 3, margin: 0.3, scale: 10}"));
        var images = randn(2, 3, 32, 32);
        var labels = tensor(new long[] { 1, 2 });
        model.eval();
        var cosines = model.ForwardOutputs(images, labels).Primary;

        model.train();
        // BatchNorms in training mode change the features; compare the head on the model's own features.
        var output = model.ForwardOutputs(images, labels);
        var fromFeatures = model.named_modules().Select(p => p.module).OfType<MarginHead>().Single().Forward(output.Tensors["features"], labels);

        Assert.That(cosines.abs().max().item<float>(), Is.LessThanOrEqualTo(1.0001f), "eval: plain cosines");
        Assert.That(output.Primary.sub(fromFeatures).abs().max().item<float>(), Is.LessThan(1e-5f));
        Assert.That(output.Primary.abs().max().item<float>(), Is.GreaterThan(1.0f), "training: scaled margin logits");
        Assert.That(model.state_dict().Keys, Does.Contain("head.weight").And.Contain("neck.fc.weight").And.Contain("neck.fc.bias"));
        Assert.That(model.state_dict()["head.weight"].shape, Is.EqualTo(new long[] { 8, 3 }), "Paddle's layout [embedding_size, class_num]");
    }

    [Test]
    public void BNNeck_normalises_with_paddle_names_and_its_bias_attr_learning_rate_is_a_multiplier()
    {
        var model = BuildRec(Rec("""
            {name: BNNeck, num_features: 1280,
                   weight_attr: {initializer: {name: Constant, value: 0.5}},
                   bias_attr: {initializer: {name: Constant, value: 0.25}, learning_rate: 1.0e-20}}
            """, "{name: FC, embedding_size: 1280, class_num: 3, weight_attr: {initializer: {name: Normal, std: 0.001}}, bias_attr: False}"));
        var state = model.state_dict();

        Assert.That(state.Keys.Where(k => k.StartsWith("neck.", StringComparison.Ordinal)),
            Is.EquivalentTo(new[] { "neck.feat_bn.weight", "neck.feat_bn.bias", "neck.feat_bn._mean", "neck.feat_bn._variance" }));
        Assert.That(state["neck.feat_bn.weight"].data<float>().ToArray(), Is.All.EqualTo(0.5f));
        Assert.That(state["neck.feat_bn.bias"].data<float>().ToArray(), Is.All.EqualTo(0.25f));
        Assert.That(state.Keys, Does.Contain("head.fc.weight").And.Not.Contain("head.fc.bias"), "bias_attr: False");
        double std = state["head.fc.weight"].std().item<float>();
        Assert.That(std, Is.EqualTo(0.001).Within(0.0001), "Normal(std 0.001) over 3840 weights");
        Assert.That(model.LearningRateMultipliers(), Does.ContainKey("neck.feat_bn.bias").WithValue(1e-20));
        Assert.That(model.LearningRateMultipliers().ContainsKey("neck.feat_bn.weight"), Is.False);

        // Eval: (x - mean) / sqrt(var + 1e-5) * w + b, per feature, against float64.
        var neck = model.named_modules().Select(p => p.module).OfType<BNNeck>().Single();
        using (no_grad())
        {
            state["neck.feat_bn._mean"].copy_(linspace(-1, 1, 1280));
            state["neck.feat_bn._variance"].copy_(linspace(0.5, 2, 1280));
        }
        neck.eval();
        var x = randn(2, 1280);
        var y = neck.call(x).to(ScalarType.Float64).data<double>().ToArray();
        var xs = x.to(ScalarType.Float64).data<double>().ToArray();
        for (int i = 0; i < 2; i++)
            foreach (int j in new[] { 0, 17, 640, 1279 })
            {
                double mean = -1 + 2.0 * j / 1279, variance = 0.5 + 1.5 * j / 1279;
                Assert.That(y[i * 1280 + j], Is.EqualTo((xs[i * 1280 + j] - mean) / Math.Sqrt(variance + 1e-5) * 0.5 + 0.25).Within(1e-5));
            }
    }

    [TestCase("{name: VehicleNeck, in_channels: 1280, out_channels: 8}", "Arch.Neck.name", "unknown neck or head 'VehicleNeck'")]
    [TestCase("{name: FC, embedding_size: 512, class_num: 8}", "Arch.Neck.embedding_size", "is 512 but the Neck receives 1280 features; set embedding_size: 1280")]
    [TestCase("{name: BNNeck, num_features: 1280, use_global_stats: True}", "Arch.Neck.use_global_stats", "is not supported in Ppcls")]
    [TestCase("{name: BNNeck, num_features: 1280, weight_attr: {initializer: {name: Kaiming}}}", "Arch.Neck.weight_attr.initializer.name", "unknown initializer 'Kaiming'")]
    [TestCase("{name: FC, class_num: 8, weight_attr: {regularizer: {name: L2Decay}}}", "Arch.Neck.weight_attr.regularizer", "is not supported in Ppcls")]
    public void A_gear_option_ppcls_cannot_follow_is_refused_naming_its_key(string neck, string key, string message)
    {
        var e = Refused(Rec(neck, "{name: FC, class_num: 3}").Replace("embedding_size: 8", ""));

        Assert.That(e.Message, Does.Contain(key).And.Contain(message));
        Assert.That(e.Message.Split('\n'), Has.Length.EqualTo(1));
    }

    [Test]
    public void A_head_fed_from_the_backbone_skips_the_neck()
    {
        var model = BuildRec(Rec("{name: FC, embedding_size: 1280, class_num: 8}", "{name: CosMargin, embedding_size: 1280, class_num: 3}")
            + "\n  head_feature_from: backbone\n");

        Assert.That(model.state_dict()["head.weight"].shape, Is.EqualTo(new long[] { 1280, 3 }));
        model.eval();
        Assert.That(model.ForwardOutputs(randn(1, 3, 32, 32)).Primary.shape, Is.EqualTo(new long[] { 1, 3 }));
    }

    [Test]
    public void Infer_output_keys_other_than_features_are_refused()
    {
        var e = Refused(Rec("{name: FC, embedding_size: 1280, class_num: 8}", "{name: FC, class_num: 3}") + "\n  infer_output_key: logits\n");

        Assert.That(e.Message, Does.Contain("Arch.infer_output_key").And.Contain("set infer_output_key: features"));
    }

    /// <summary>BNNeck then a margin head, as one block: ONNX Runtime against TorchSharp in eval mode.</summary>
    [Test]
    public void BNNeck_and_a_margin_head_match_in_onnx_runtime()
    {
        manual_seed(6);
        using var block = new NeckThenHead(new BNNeck(12), new MarginHead("ArcMargin", 12, 5, new ArcMargin(0.2, 30, false)));
        ModelFusionTests.Randomize(block);
        var exporter = new OnnxExporter(block, ModelFusion.Fuse, "gears", 12, 1, 1, embedding: true);

        var (_, checks) = exporter.Export(Path.Combine(_dir, "gears.onnx"), 0, exporter.RandomInputs());

        Assert.That(checks, Is.Not.Empty);
        foreach (var check in checks) Assert.That(check.Passed, Is.True, check.ToString());
        Assert.That(exporter.OutputWidth, Is.EqualTo(5));
    }

    sealed class NeckThenHead : nn.Module<Tensor, Tensor>, IOnnxExportable
    {
        readonly RecGear neck;
        readonly RecGear head;

        public NeckThenHead(RecGear neck, RecGear head) : base(nameof(NeckThenHead))
        {
            this.neck = neck;
            this.head = head;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => head.call(neck.call(x));

        public string ToOnnx(OnnxGraph graph, string input) => graph.Module(head, "head", graph.Module(neck, "neck", input));
    }
}
