using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models;

// PP-HGNetV2 (PaddleClas ppcls/arch/backbone/legendary_models/pp_hgnet_v2.py), read top-down:
// blocks, then the network, then the B0..B6 table. Field names are PaddleClas attribute
// names, so the state-dict keys equal the .pdparams keys.

/// <summary>
/// PP-HGNetV2's light layer: a 1x1 conv + BN without activation (hence without LAB), then a
/// depthwise kxk conv + BN + ReLU (+ LAB). Keys: `conv1.*`, `conv2.*`.
/// </summary>
public sealed class HGV2LightConvBNAct : ScopedBlock, IOnnxExportable
{
    readonly ConvBNAct conv1;
    readonly ConvBNAct conv2;

    public HGV2LightConvBNAct(long inChannels, long outChannels, long kernelSize, bool useLab, double lrMult)
        : base(nameof(HGV2LightConvBNAct))
    {
        conv1 = new ConvBNAct(inChannels, outChannels, kernelSize: 1, useAct: false, useLab: useLab, lrMult: lrMult);
        conv2 = new ConvBNAct(outChannels, outChannels, kernelSize, groups: outChannels, useAct: true, useLab: useLab, lrMult: lrMult);
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x) => conv2.call(conv1.call(x));

    public string ToOnnx(OnnxGraph graph, string input) =>
        graph.Module(conv2, "conv2", graph.Module(conv1, "conv1", input));
}

/// <summary>
/// PP-HGNetV2's stem: a stride-2 3x3 conv, then two branches joined on channels — two 2x2
/// "SAME" convs, and a 2x2 stride-1 ceil-mode "SAME" max pool — then a stride-2 3x3 conv and
/// a 1x1 conv. Keys: `stem1`, `stem2a`, `stem2b`, `stem3`, `stem4`.
/// </summary>
public sealed class HGV2Stem : ScopedBlock, IOnnxExportable
{
    readonly ConvBNAct stem1;
    readonly ConvBNAct stem2a;
    readonly ConvBNAct stem2b;
    readonly ConvBNAct stem3;
    readonly ConvBNAct stem4;

    public HGV2Stem(long inChannels, long midChannels, long outChannels, bool useLab, double lrMult)
        : base(nameof(HGV2Stem))
    {
        stem1 = new ConvBNAct(inChannels, midChannels, kernelSize: 3, stride: 2, useLab: useLab, lrMult: lrMult);
        stem2a = new ConvBNAct(midChannels, midChannels / 2, kernelSize: 2, useLab: useLab, lrMult: lrMult, samePadding: true);
        stem2b = new ConvBNAct(midChannels / 2, midChannels, kernelSize: 2, useLab: useLab, lrMult: lrMult, samePadding: true);
        stem3 = new ConvBNAct(midChannels * 2, midChannels, kernelSize: 3, stride: 2, useLab: useLab, lrMult: lrMult);
        stem4 = new ConvBNAct(midChannels, outChannels, kernelSize: 1, useLab: useLab, lrMult: lrMult);
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var y = stem1.call(x);
        var branch = stem2b.call(stem2a.call(y));
        var pooled = SamePadMaxPool2x2(y);
        return stem4.call(stem3.call(cat([pooled, branch], 1)));
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(stem1, "stem1", input);
        var branch = graph.Module(stem2b, "stem2b", graph.Module(stem2a, "stem2a", y));
        var pooled = graph.Child("pool", () => SamePadMaxPool2x2(graph, y));
        var joined = graph.Concat([pooled, branch], axis: 1);
        return graph.Module(stem4, "stem4", graph.Module(stem3, "stem3", joined));
    }

    /// <summary>The SAME 2x2 max pool in ONNX: Pad in edge mode (replicate) right and bottom, then MaxPool.</summary>
    public static string SamePadMaxPool2x2(OnnxGraph graph, string x) =>
        graph.MaxPool(graph.Pad(x, [0, 0, 1, 1], "edge"), kernel: 2, stride: 1, pads: [0, 0, 0, 0]);

    /// <summary>
    /// Paddle's MaxPool2D(kernel 2, stride 1, ceil_mode, padding "SAME"): the output keeps the
    /// input size, the one pixel of padding sits right and bottom, and padded cells never win
    /// the max (Paddle clips the window to the input). Replicating the edge reproduces that
    /// exactly: a padded cell copies a cell already in its window. Zero padding would not (with
    /// LAB the stem's activations can be negative), and -inf padding gave sporadic NaN gradients.
    /// </summary>
    public static Tensor SamePadMaxPool2x2(Tensor x) =>
        nn.functional.max_pool2d(nn.functional.pad(x, [0, 1, 0, 1], PaddingModes.Replicate), 2, 1);
}

/// <summary>
/// PP-HGNetV2's block: <c>LayerNum</c> layers in a chain (plain kxk ConvBNAct, or the light
/// 1x1 + depthwise kxk pair), the input and every layer's output concatenated, squeezed by a
/// 1x1 conv to half the output channels and excited by a 1x1 conv to the output channels;
/// every block but a stage's first adds its input back. Keys: `layers.i.*`,
/// `aggregation_squeeze_conv.*`, `aggregation_excitation_conv.*`.
/// </summary>
public sealed class HGV2Block : ScopedBlock, IOnnxExportable
{
    readonly ModuleList<nn.Module<Tensor, Tensor>> layers;
    readonly ConvBNAct aggregation_squeeze_conv;
    readonly ConvBNAct aggregation_excitation_conv;
    readonly bool _identity;

    public HGV2Block(long inChannels, long midChannels, long outChannels, long kernelSize, int layerNum,
        bool identity, bool lightBlock, bool useLab, double lrMult)
        : base(nameof(HGV2Block))
    {
        _identity = identity;
        layers = new ModuleList<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < layerNum; i++)
        {
            long layerIn = i == 0 ? inChannels : midChannels;
            layers.Add(lightBlock
                ? new HGV2LightConvBNAct(layerIn, midChannels, kernelSize, useLab, lrMult)
                : new ConvBNAct(layerIn, midChannels, kernelSize, useLab: useLab, lrMult: lrMult));
        }
        long totalChannels = inChannels + layerNum * midChannels;
        aggregation_squeeze_conv = new ConvBNAct(totalChannels, outChannels / 2, kernelSize: 1, useLab: useLab, lrMult: lrMult);
        aggregation_excitation_conv = new ConvBNAct(outChannels / 2, outChannels, kernelSize: 1, useLab: useLab, lrMult: lrMult);
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var y = aggregation_excitation_conv.call(aggregation_squeeze_conv.call(LayerChain.ConcatOutputs(x, layers)));
        return _identity ? y + x : y;
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = LayerChain.ConcatOutputs(graph, input, layers, "layers");
        y = graph.Module(aggregation_squeeze_conv, "aggregation_squeeze_conv", y);
        y = graph.Module(aggregation_excitation_conv, "aggregation_excitation_conv", y);
        return _identity ? graph.Add(y, input) : y;
    }
}

/// <summary>
/// PP-HGNetV2: stem, four stages, global average pool, then (with use_last_conv) a 1x1 conv
/// to class_expand channels + ReLU (+ LAB) + downscale-in-infer dropout, and the classifier.
/// Learning-rate multipliers: lr_mult_list[0] for the stem, lr_mult_list[i+1] for stage i
/// (conv weights and BN affine parameters), LAB parameters lab_lr (0.01) times their
/// block's lr_mult; the head's last_conv and fc train at the base rate, its LAB at 0.01.
/// </summary>
public sealed class PPHGNetV2 : ClassifierNetwork, ILearningRateMultipliers
{
    /// <summary>One row of PaddleClas's stage table, with its eight positional fields named.</summary>
    public sealed record StageConfig(
        int InChannels,
        int MidChannels,
        int OutChannels,
        int BlockNum,
        bool Downsample,
        bool LightBlock,
        int KernelSize,
        int LayerNum);

    /// <summary>A named variant: stem channels (input is RGB), stage table, and its use_lab default.</summary>
    public sealed record Variant(
        string Name,
        int StemMidChannels,
        int StemOutChannels,
        bool UseLab,
        IReadOnlyList<StageConfig> Stages);

    public const int StageCount = 4;

    readonly HGV2Stem stem;
    readonly ModuleList<HGStage> stages;
    readonly Conv2d? last_conv;
    readonly LearnableAffineBlock? lab;
    readonly DownscaleInInferDropout? dropout;
    // PaddleClas's Linear weight is [in, out]; TorchSharp's is [out, in]. The module keeps the
    // torch layout; the weight loader transposes.
    Linear fc;

    public PPHGNetV2(
        Variant variant,
        bool useLab,
        bool useLastConv = true,
        int classExpand = 2048,
        double dropoutProb = 0.0,
        int classNum = 1000,
        IReadOnlyList<double>? lrMultList = null)
        : base(variant.Name)
    {
        var lrMult = lrMultList ?? Enumerable.Repeat(1.0, StageCount + 1).ToArray();
        if (lrMult.Count != StageCount + 1)
            throw new ArgumentException($"lr_mult_list needs {StageCount + 1} values (stem and 4 stages), got {lrMult.Count}", nameof(lrMultList));

        Definition = variant;
        UseLab = useLab;
        UseLastConv = useLastConv;

        stem = new HGV2Stem(3, variant.StemMidChannels, variant.StemOutChannels, useLab, lrMult[0]);
        stages = new ModuleList<HGStage>();
        for (int i = 0; i < variant.Stages.Count; i++)
        {
            var stage = variant.Stages[i];
            double stageLr = lrMult[i + 1];
            stages.Add(new HGStage(stage.InChannels, stage.OutChannels, stage.Downsample, stage.BlockNum,
                (b, blockIn) => new HGV2Block(blockIn, stage.MidChannels, stage.OutChannels, stage.KernelSize, stage.LayerNum,
                    identity: b > 0, stage.LightBlock, useLab, stageLr),
                useLab, stageLr));
        }

        long features = variant.Stages[^1].OutChannels;
        if (useLastConv)
        {
            last_conv = PaddleInit.Conv(features, classExpand, 1, kaimingNormal: true);
            if (useLab) lab = new LearnableAffineBlock();
            dropout = new DownscaleInInferDropout(dropoutProb);
            features = classExpand;
        }
        fc = PaddleInit.Linear(features, classNum);

        RegisterComponents();
    }

    public Variant Definition { get; }
    public bool UseLab { get; }
    public bool UseLastConv { get; }
    public override Linear Classifier { get => fc; protected set => fc = value; }

    public override Tensor ForwardFeatures(Tensor x) => LayerChain.Run(stem.call(x), stages);

    /// <summary>Global average pool, then (with use_last_conv) the 1x1 expansion, ReLU, LAB and dropout, flatten, fc.</summary>
    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        var y = ForwardNeck(nn.functional.adaptive_avg_pool2d(features, [1, 1])).flatten(1);
        return preLogits ? y : fc.call(y);
    }

    public override bool TakesMlDecoder => true;

    /// <summary>(With use_last_conv) the 1x1 expansion, ReLU, LAB and dropout, on any spatial size.</summary>
    protected override Tensor ForwardNeck(Tensor y)
    {
        if (last_conv is null) return y;
        y = nn.functional.relu(last_conv.call(y));
        if (lab is not null) y = lab.call(y);
        return dropout!.call(y);
    }

    protected override string NeckToOnnx(OnnxGraph graph, string y)
    {
        if (last_conv is null) return y;
        y = graph.Relu(graph.Module(last_conv, "last_conv", y));
        if (lab is not null) y = graph.Module(lab, "lab", y);
        return graph.Module(dropout!, "dropout", y);
    }

    public override string FeaturesToOnnx(OnnxGraph graph, string input) =>
        LayerChain.Run(graph, graph.Module(stem, "stem", input), stages, "stages");

    public override string HeadToOnnx(OnnxGraph graph, string features, bool preLogits = false)
    {
        var y = graph.Flatten(NeckToOnnx(graph, graph.GlobalAveragePool(features)));
        return preLogits ? y : graph.Module(fc, "fc", y);
    }

    public IReadOnlyDictionary<string, double> LearningRateMultipliers() => HGNetLearningRates.Collect(this);

    // ---- variants (PaddleClas's PPHGNetV2_B0 .. PPHGNetV2_B6) ----

    public static readonly Variant B0 = new("PPHGNetV2_B0", 16, 16, UseLab: true,
    [
        new(16, 16, 64, 1, Downsample: false, LightBlock: false, KernelSize: 3, LayerNum: 3),
        new(64, 32, 256, 1, Downsample: true, LightBlock: false, KernelSize: 3, LayerNum: 3),
        new(256, 64, 512, 2, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 3),
        new(512, 128, 1024, 1, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 3),
    ]);

    public static readonly Variant B1 = new("PPHGNetV2_B1", 24, 32, UseLab: true,
    [
        new(32, 32, 64, 1, Downsample: false, LightBlock: false, KernelSize: 3, LayerNum: 3),
        new(64, 48, 256, 1, Downsample: true, LightBlock: false, KernelSize: 3, LayerNum: 3),
        new(256, 96, 512, 2, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 3),
        new(512, 192, 1024, 1, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 3),
    ]);

    public static readonly Variant B2 = new("PPHGNetV2_B2", 24, 32, UseLab: true,
    [
        new(32, 32, 96, 1, Downsample: false, LightBlock: false, KernelSize: 3, LayerNum: 4),
        new(96, 64, 384, 1, Downsample: true, LightBlock: false, KernelSize: 3, LayerNum: 4),
        new(384, 128, 768, 3, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 4),
        new(768, 256, 1536, 1, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 4),
    ]);

    public static readonly Variant B3 = new("PPHGNetV2_B3", 24, 32, UseLab: true,
    [
        new(32, 32, 128, 1, Downsample: false, LightBlock: false, KernelSize: 3, LayerNum: 5),
        new(128, 64, 512, 1, Downsample: true, LightBlock: false, KernelSize: 3, LayerNum: 5),
        new(512, 128, 1024, 3, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 5),
        new(1024, 256, 2048, 1, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 5),
    ]);

    public static readonly Variant B4 = new("PPHGNetV2_B4", 32, 48, UseLab: false,
    [
        new(48, 48, 128, 1, Downsample: false, LightBlock: false, KernelSize: 3, LayerNum: 6),
        new(128, 96, 512, 1, Downsample: true, LightBlock: false, KernelSize: 3, LayerNum: 6),
        new(512, 192, 1024, 3, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 6),
        new(1024, 384, 2048, 1, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 6),
    ]);

    public static readonly Variant B5 = new("PPHGNetV2_B5", 32, 64, UseLab: false,
    [
        new(64, 64, 128, 1, Downsample: false, LightBlock: false, KernelSize: 3, LayerNum: 6),
        new(128, 128, 512, 2, Downsample: true, LightBlock: false, KernelSize: 3, LayerNum: 6),
        new(512, 256, 1024, 5, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 6),
        new(1024, 512, 2048, 2, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 6),
    ]);

    public static readonly Variant B6 = new("PPHGNetV2_B6", 48, 96, UseLab: false,
    [
        new(96, 96, 192, 2, Downsample: false, LightBlock: false, KernelSize: 3, LayerNum: 6),
        new(192, 192, 512, 3, Downsample: true, LightBlock: false, KernelSize: 3, LayerNum: 6),
        new(512, 384, 1024, 6, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 6),
        new(1024, 768, 2048, 3, Downsample: true, LightBlock: true, KernelSize: 5, LayerNum: 6),
    ]);

    public static readonly IReadOnlyList<Variant> Variants = [B0, B1, B2, B3, B4, B5, B6];

    /// <summary>Evaluation preprocessing of PaddleClas's PPHGNetV2 configs: resize_short 232, bicubic, 224 crop.</summary>
    public static readonly ModelPreset Preset = ModelPreset.ImageNet("stem.stem1.conv.weight", "fc.weight", resizeShort: 232, interpolation: "bicubic")
        with { TimmKeyMap = (name, _) => TimmHGNetNames.FromTimmV2(name), PublishedFolder = ModelPreset.LegendaryModels, PublishedSsld = true };

    /// <summary>
    /// Builds a variant from its Arch options: PaddleClas's constructor keywords class_num,
    /// use_lab (default per variant), use_last_conv, class_expand, dropout_prob, lr_mult_list.
    /// </summary>
    public static PPHGNetV2 Create(Variant variant, ConfigSection arch)
    {
        int classNum = ArchOptions.PositiveInt(arch, "class_num", 1000);
        bool useLab = arch.Bool("use_lab", variant.UseLab);
        bool useLastConv = arch.Bool("use_last_conv", true);
        int classExpand = ArchOptions.PositiveInt(arch, "class_expand", 2048);
        double dropoutProb = ArchOptions.Probability(arch, "dropout_prob", 0.0);
        var lrMultList = arch.OptionalDoubleList("lr_mult_list");
        if (lrMultList is not null && lrMultList.Count != StageCount + 1)
            throw ConfigException.At(arch.KeyPath("lr_mult_list"), arch.Raw("lr_mult_list")?.Location ?? arch.Location,
                $"expected {StageCount + 1} values (stem and {StageCount} stages), got {lrMultList.Count}");
        return new PPHGNetV2(variant, useLab, useLastConv, classExpand, dropoutProb, classNum, lrMultList);
    }

    public static void Register(ModelRegistry registry) => registry.Register("PPHGNetV2", Variants, v => v.Name, _ => Preset, Create);
}
