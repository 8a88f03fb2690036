using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models;

// PP-HGNet (PaddleClas ppcls/arch/backbone/legendary_models/pp_hgnet.py), read top-down:
// blocks, then the network, then the tiny/small/base table. Field names are PaddleClas
// attribute names, so the state-dict keys equal the .pdparams keys.

/// <summary>
/// PP-HGNet's HG block: <c>layerNum</c> 3x3 ConvBNAct layers in a chain, the input and every
/// layer's output concatenated, a 1x1 ConvBNAct to the output channels, then ESE attention;
/// every block but a stage's first adds its input back. Keys: `layers.i.*`,
/// `aggregation_conv.*`, `att.conv.*`.
/// </summary>
public sealed class HGBlock : ScopedBlock, IOnnxExportable
{
    readonly ModuleList<ConvBNAct> layers;
    readonly ConvBNAct aggregation_conv;
    readonly EseModule att;
    readonly bool _identity;

    public HGBlock(long inChannels, long midChannels, long outChannels, int layerNum, bool identity)
        : base(nameof(HGBlock))
    {
        _identity = identity;
        layers = new ModuleList<ConvBNAct>();
        for (int i = 0; i < layerNum; i++)
            layers.Add(new ConvBNAct(i == 0 ? inChannels : midChannels, midChannels, kernelSize: 3));
        aggregation_conv = new ConvBNAct(inChannels + layerNum * midChannels, outChannels, kernelSize: 1);
        att = new EseModule(outChannels);
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var y = att.call(aggregation_conv.call(LayerChain.ConcatOutputs(x, layers)));
        return _identity ? y + x : y;
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = LayerChain.ConcatOutputs(graph, input, layers, "layers");
        y = graph.Module(att, "att", graph.Module(aggregation_conv, "aggregation_conv", y));
        return _identity ? graph.Add(y, input) : y;
    }
}

/// <summary>
/// PP-HGNet: a stem of 3x3 ConvBNActs (the first with stride 2) and a 3x3 stride-2 max pool,
/// four stages, global average pool, then (with use_last_conv) a 1x1 conv to class_expand
/// channels + ReLU + downscale-in-infer dropout, and the classifier. All parameters train at
/// the base learning rate (PaddleClas's PPHGNet has no lr_mult_list).
/// </summary>
public sealed class PPHGNet : ClassifierNetwork
{
    /// <summary>One row of PaddleClas's stage table, with its five positional fields named.</summary>
    public sealed record StageConfig(
        int InChannels,
        int MidChannels,
        int OutChannels,
        int BlockNum,
        bool Downsample);

    /// <summary>
    /// A named variant: stem conv widths (input is RGB), ConvBNAct layers per HG block, the
    /// stage table, the dropout default, and the evaluation resize of its PaddleClas config.
    /// </summary>
    public sealed record Variant(
        string Name,
        IReadOnlyList<int> StemChannels,
        int LayerNum,
        double DropoutProb,
        int ResizeShort,
        IReadOnlyList<StageConfig> Stages);

    readonly Sequential stem;
    readonly ModuleList<HGStage> stages;
    readonly Conv2d? last_conv;
    readonly DownscaleInInferDropout? dropout;
    // PaddleClas's Linear weight is [in, out]; TorchSharp's is [out, in]. The module keeps the
    // torch layout; the weight loader transposes.
    Linear fc;

    public PPHGNet(
        Variant variant,
        bool useLastConv = true,
        int classExpand = 2048,
        double? dropoutProb = null,
        int classNum = 1000)
        : base(variant.Name)
    {
        Definition = variant;
        UseLastConv = useLastConv;

        var stemLayers = new nn.Module<Tensor, Tensor>[variant.StemChannels.Count];
        long channels = 3;
        for (int i = 0; i < stemLayers.Length; i++)
        {
            stemLayers[i] = new ConvBNAct(channels, variant.StemChannels[i], kernelSize: 3, stride: i == 0 ? 2 : 1);
            channels = variant.StemChannels[i];
        }
        stem = nn.Sequential(stemLayers);

        stages = new ModuleList<HGStage>();
        foreach (var stage in variant.Stages)
            stages.Add(new HGStage(stage.InChannels, stage.OutChannels, stage.Downsample, stage.BlockNum,
                (i, blockIn) => new HGBlock(blockIn, stage.MidChannels, stage.OutChannels, variant.LayerNum, identity: i > 0)));

        long features = variant.Stages[^1].OutChannels;
        if (useLastConv)
        {
            last_conv = PaddleInit.Conv(features, classExpand, 1, kaimingNormal: true);
            dropout = new DownscaleInInferDropout(dropoutProb ?? variant.DropoutProb);
            features = classExpand;
        }
        fc = PaddleInit.Linear(features, classNum);

        RegisterComponents();
    }

    public Variant Definition { get; }
    public bool UseLastConv { get; }
    public override Linear Classifier { get => fc; protected set => fc = value; }

    public override Tensor ForwardFeatures(Tensor x) => LayerChain.Run(nn.functional.max_pool2d(stem.call(x), 3, 2, 1), stages);

    /// <summary>Global average pool, then (with use_last_conv) the 1x1 expansion, ReLU and dropout, flatten, fc.</summary>
    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        var y = ForwardNeck(nn.functional.adaptive_avg_pool2d(features, [1, 1])).flatten(1);
        return preLogits ? y : fc.call(y);
    }

    public override bool TakesMlDecoder => true;

    /// <summary>(With use_last_conv) the 1x1 expansion, ReLU and dropout, on any spatial size.</summary>
    protected override Tensor ForwardNeck(Tensor y) => last_conv is null ? y : dropout!.call(nn.functional.relu(last_conv.call(y)));

    protected override string NeckToOnnx(OnnxGraph graph, string y) =>
        last_conv is null ? y : graph.Module(dropout!, "dropout", graph.Relu(graph.Module(last_conv, "last_conv", y)));

    public override string FeaturesToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(stem, "stem", input);
        y = graph.Child("pool", () => graph.MaxPool(y, kernel: 3, stride: 2, pads: [1, 1, 1, 1]));
        return LayerChain.Run(graph, y, stages, "stages");
    }

    public override string HeadToOnnx(OnnxGraph graph, string features, bool preLogits = false)
    {
        var y = graph.Flatten(NeckToOnnx(graph, graph.GlobalAveragePool(features)));
        return preLogits ? y : graph.Module(fc, "fc", y);
    }

    // ---- variants (PaddleClas's PPHGNet_tiny, PPHGNet_small, PPHGNet_base) ----

    public static readonly Variant Tiny = new("PPHGNet_tiny", [48, 48, 96], LayerNum: 5, DropoutProb: 0.0, ResizeShort: 232,
    [
        new(96, 96, 224, 1, Downsample: false),
        new(224, 128, 448, 1, Downsample: true),
        new(448, 160, 512, 2, Downsample: true),
        new(512, 192, 768, 1, Downsample: true),
    ]);

    public static readonly Variant Small = new("PPHGNet_small", [64, 64, 128], LayerNum: 6, DropoutProb: 0.0, ResizeShort: 236,
    [
        new(128, 128, 256, 1, Downsample: false),
        new(256, 160, 512, 1, Downsample: true),
        new(512, 192, 768, 2, Downsample: true),
        new(768, 224, 1024, 1, Downsample: true),
    ]);

    public static readonly Variant Base = new("PPHGNet_base", [96, 96, 160], LayerNum: 7, DropoutProb: 0.2, ResizeShort: 236,
    [
        new(160, 192, 320, 1, Downsample: false),
        new(320, 224, 640, 2, Downsample: true),
        new(640, 256, 960, 3, Downsample: true),
        new(960, 288, 1280, 2, Downsample: true),
    ]);

    public static readonly IReadOnlyList<Variant> Variants = [Tiny, Small, Base];

    /// <summary>Evaluation preprocessing of the variant's PaddleClas config: bicubic resize_short, 224 crop.</summary>
    public static ModelPreset PresetOf(Variant variant) =>
        ModelPreset.ImageNet("stem.0.conv.weight", "fc.weight", resizeShort: variant.ResizeShort, interpolation: "bicubic")
            with { TimmKeyMap = (name, _) => TimmHGNetNames.FromTimmV1(name), PublishedFolder = variant.Name == "PPHGNet_base" ? null : ModelPreset.LegendaryModels };

    /// <summary>
    /// Builds a variant from its Arch options: PaddleClas's constructor keywords class_num,
    /// use_last_conv, class_expand, dropout_prob (default 0.2 for base, else 0).
    /// </summary>
    public static PPHGNet Create(Variant variant, ConfigSection arch)
    {
        int classNum = ArchOptions.PositiveInt(arch, "class_num", 1000);
        bool useLastConv = arch.Bool("use_last_conv", true);
        int classExpand = ArchOptions.PositiveInt(arch, "class_expand", 2048);
        double dropoutProb = ArchOptions.Probability(arch, "dropout_prob", variant.DropoutProb);
        return new PPHGNet(variant, useLastConv, classExpand, dropoutProb, classNum);
    }

    public static void Register(ModelRegistry registry) => registry.Register("PPHGNet", Variants, v => v.Name, PresetOf, Create);
}
