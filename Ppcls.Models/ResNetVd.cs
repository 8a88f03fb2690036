using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models;

// ---- blocks ---------------------------------------------------------------------------------

/// <summary>
/// ResNet's basic block (PaddleClas `BasicBlock`): 3x3 `conv0` (stride, ReLU) -> 3x3 `conv1`, plus the
/// input or, in a stage's first block, the 1x1 projection `short` (vd: average pool, then stride-1
/// conv; the network's very first block projects without pooling); ReLU after the sum.
/// </summary>
public sealed class ResNetBasicBlock : ScopedBlock, IOnnxExportable
{
    readonly VdConvBN conv0;
    readonly VdConvBN conv1;
    readonly VdConvBN? @short;

    public ResNetBasicBlock(long inChannels, long filters, Stride2d stride, bool projection, bool poolShortcut) : base(nameof(ResNetBasicBlock))
    {
        conv0 = new VdConvBN(inChannels, filters, 3, stride, relu: true);
        conv1 = new VdConvBN(filters, filters, 3, 1);
        if (projection) @short = new VdConvBN(inChannels, filters, 1, stride, poolFirst: poolShortcut);
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x) =>
        conv1.call(conv0.call(x)).add(@short is null ? x : @short.call(x)).relu_();

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(conv1, "conv1", graph.Module(conv0, "conv0", input));
        return graph.Relu(graph.Add(y, @short is null ? input : graph.Module(@short, "short", input)));
    }
}

/// <summary>
/// ResNet's bottleneck (PaddleClas `BottleneckBlock`): 1x1 `conv0` -> 3x3 `conv1` (stride) -> 1x1 `conv2`
/// to 4x the width, plus the input or the projection `short` as in <see cref="ResNetBasicBlock"/>; ReLU after the sum.
/// </summary>
public sealed class ResNetBottleneckBlock : ScopedBlock, IOnnxExportable
{
    readonly VdConvBN conv0;
    readonly VdConvBN conv1;
    readonly VdConvBN conv2;
    readonly VdConvBN? @short;

    public ResNetBottleneckBlock(long inChannels, long filters, Stride2d stride, bool projection, bool poolShortcut) : base(nameof(ResNetBottleneckBlock))
    {
        conv0 = new VdConvBN(inChannels, filters, 1, 1, relu: true);
        conv1 = new VdConvBN(filters, filters, 3, stride, relu: true);
        conv2 = new VdConvBN(filters, filters * 4, 1, 1);
        if (projection) @short = new VdConvBN(inChannels, filters * 4, 1, stride, poolFirst: poolShortcut);
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x) =>
        conv2.call(conv1.call(conv0.call(x))).add(@short is null ? x : @short.call(x)).relu_();

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(conv0, "conv0", input);
        y = graph.Module(conv2, "conv2", graph.Module(conv1, "conv1", y));
        return graph.Relu(graph.Add(y, @short is null ? input : graph.Module(@short, "short", input)));
    }
}

// ---- network --------------------------------------------------------------------------------

/// <summary>
/// ResNet "vd" as PaddleClas builds it (`legendary_models/resnet.py`, version vd): a stem `stem` of three
/// 3x3 convs (32, 32, 64; the first stride 2), a 3x3 stride-2 max pool, the blocks of four stages in one
/// sequence `blocks` (widths 64, 128, 256, 512; every stage's first block projects its shortcut, through
/// an average pool from the second stage on), global average pooling and the classifier `fc`.
/// </summary>
public sealed class ResNetVd : ClassifierNetwork, ILearningRateMultipliers
{
    public static readonly IReadOnlyList<long> StageWidths = [64, 128, 256, 512];
    public static readonly IReadOnlyList<long> StemWidths = [32, 32, 64];

    readonly Sequential stem;
    readonly Sequential blocks;
    Linear fc;
    readonly Stride2d _maxPoolStride;
    readonly Dictionary<string, double> _lrMultipliers = [];

    public ResNetVd(Variant variant, ResNetVdOptions options) : base(nameof(ResNetVd))
    {
        var lrMults = options.LrMultList ?? [1.0, 1.0, 1.0, 1.0, 1.0];
        var strides = options.StrideList ?? [2, 2, 2, 2, 2];
        if (lrMults.Count != 5) throw new ArgumentException($"lr_mult_list needs 5 entries, got {lrMults.Count}", nameof(options));
        if (strides.Count != 5) throw new ArgumentException($"stride_list needs 5 entries, got {strides.Count}", nameof(options));
        _maxPoolStride = strides[1];

        long channels = options.InputChannels;
        var stemLayers = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < StemWidths.Count; i++)
        {
            stemLayers.Add(new VdConvBN(channels, StemWidths[i], 3, i == 0 ? strides[0] : 1, relu: options.StemRelu));
            channels = StemWidths[i];
        }
        stem = nn.Sequential(stemLayers.ToArray());

        var blockList = new List<nn.Module<Tensor, Tensor>>();
        var blockStage = new List<int>();
        for (int s = 0; s < variant.Depths.Count; s++)
            for (int b = 0; b < variant.Depths[s]; b++)
            {
                Stride2d stride = b == 0 && s > 0 ? strides[s + 1] : 1;
                bool first = b == 0;
                bool pool = first && s > 0;
                blockList.Add(variant.Bottleneck
                    ? new ResNetBottleneckBlock(channels, StageWidths[s], stride, first, pool)
                    : new ResNetBasicBlock(channels, StageWidths[s], stride, first, pool));
                blockStage.Add(s);
                channels = StageWidths[s] * (variant.Bottleneck ? 4 : 1);
            }
        blocks = nn.Sequential(blockList.ToArray());
        fc = PaddleInit.Linear(channels, options.ClassNum);
        RegisterComponents();

        foreach (var (name, _) in named_parameters())
        {
            if (name.StartsWith("stem.", StringComparison.Ordinal)) _lrMultipliers[name] = lrMults[0];
            else if (name.StartsWith("blocks.", StringComparison.Ordinal))
                _lrMultipliers[name] = lrMults[blockStage[int.Parse(name.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)] + 1];
        }
    }

    public override Linear Classifier { get => fc; protected set => fc = value; }

    /// <summary>lr_mult_list: the stem at entry 0, the four stages at entries 1 .. 4; fc at the base rate.</summary>
    public IReadOnlyDictionary<string, double> LearningRateMultipliers() => _lrMultipliers;

    public override Tensor ForwardFeatures(Tensor x) =>
        blocks.call(nn.functional.max_pool2d(stem.call(x), [3, 3], [_maxPoolStride.Height, _maxPoolStride.Width], [1, 1]));

    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        var y = nn.functional.adaptive_avg_pool2d(features, [1, 1]).flatten(1);
        return preLogits ? y : fc.call(y);
    }

    public override string FeaturesToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(stem, "stem", input);
        y = graph.Child("max_pool", () => graph.MaxPool(y, 3, _maxPoolStride.Height, _maxPoolStride.Width, [1, 1, 1, 1]));
        return graph.Module(blocks, "blocks", y);
    }

    public override string HeadToOnnx(OnnxGraph graph, string features, bool preLogits = false)
    {
        var y = graph.Flatten(graph.GlobalAveragePool(features));
        return preLogits ? y : graph.Module(fc, "fc", y);
    }

    // ---- the named variants -------------------------------------------------------------

    /// <summary>A registered ResNet_vd: its PaddleClas name, block kind and blocks per stage (PaddleClas's NET_CONFIG).</summary>
    public sealed record Variant(string Name, bool Bottleneck, IReadOnlyList<int> Depths);

    public static readonly IReadOnlyList<Variant> Variants =
    [
        new("ResNet18_vd", Bottleneck: false, [2, 2, 2, 2]),
        new("ResNet34_vd", Bottleneck: false, [3, 4, 6, 3]),
        new("ResNet50_vd", Bottleneck: true, [3, 4, 6, 3]),
        new("ResNet101_vd", Bottleneck: true, [3, 4, 23, 3]),
        new("ResNet152_vd", Bottleneck: true, [3, 8, 36, 3]),
        new("ResNet200_vd", Bottleneck: true, [3, 12, 48, 3]),
    ];

    /// <summary>Every variant takes PaddleClas's eval recipe: resize_short 256, crop 224, bilinear.</summary>
    public static readonly ModelPreset Preset = ModelPreset.ImageNet("stem.0.conv.weight", "fc.weight") with { PublishedFolder = ModelPreset.LegendaryModels };

    public static void Register(ModelRegistry registry) =>
        registry.Register("ResNet", Variants, v => v.Name, _ => Preset, (v, section) => new ResNetVd(v, ReadOptions(section)));

    /// <summary>
    /// The constructor options PaddleClas's configs pass, validated with the key in every message. What
    /// would build another network (layer_type DiverseBranchBlock, use_first_short_conv: False)
    /// is refused; data_format and use_ssld change nothing here (ModelBuilder accepts them with a notice).
    /// </summary>
    public static ResNetVdOptions ReadOptions(ConfigSection section)
    {
        var lrMults = section.OptionalDoubleList("lr_mult_list");
        if (lrMults is not null && lrMults.Count != 5)
            throw ConfigException.At(section.KeyPath("lr_mult_list"), section.Raw("lr_mult_list")?.Location ?? section.Location,
                $"needs 5 multipliers (stem, the four stages), got {lrMults.Count}; e.g. lr_mult_list: [0.1, 0.1, 0.2, 0.2, 0.3]");
        var strides = ArchOptions.StrideList(section, "stride_list");
        if (strides is not null && strides.Count != 5)
            throw ConfigException.At(section.KeyPath("stride_list"), section.Raw("stride_list")?.Location ?? section.Location,
                $"needs 5 strides (stem, max pool, stages 2 .. 4), got {strides.Count}; e.g. stride_list: [2, [2, 1], [2, 1], [2, 1], [2, 1]]");
        if (section.String("layer_type", "ConvBNLayer") != "ConvBNLayer")
            throw ConfigException.At(section.KeyPath("layer_type"), section.Raw("layer_type")?.Location ?? section.Location,
                "only ConvBNLayer is supported (DiverseBranchBlock is not); remove the key");
        if (!section.Bool("use_first_short_conv", true))
            throw ConfigException.At(section.KeyPath("use_first_short_conv"), section.Raw("use_first_short_conv")?.Location ?? section.Location,
                "only True (PaddleClas's default for ResNet_vd) is supported; remove the key");
        bool stemRelu = section.Raw("stem_act") is null or ConfigScalar { IsNull: false } && section.Choice("stem_act", "relu", "relu") == "relu";
        return new ResNetVdOptions(
            ClassNum: ArchOptions.PositiveInt(section, "class_num", 1000),
            LrMultList: lrMults,
            StrideList: strides,
            StemRelu: stemRelu,
            InputChannels: ArchOptions.PositiveInt(section, "input_image_channel", 3));
    }
}

/// <summary>The options PaddleClas's `ResNet` constructor takes that Ppcls builds (the depth comes from the variant).</summary>
/// <param name="StemRelu">stem_act: PaddleClas applies ReLU for `relu` and none for null.</param>
/// <param name="StrideList">The stem conv's, the max pool's and the first strides of stages 2 .. 4 (default all 2).</param>
public sealed record ResNetVdOptions(
    int ClassNum = 1000,
    IReadOnlyList<double>? LrMultList = null,
    IReadOnlyList<Stride2d>? StrideList = null,
    bool StemRelu = true,
    int InputChannels = 3);
