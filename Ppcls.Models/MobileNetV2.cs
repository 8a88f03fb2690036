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
/// MobileNetV2's <see cref="ConvBN"/>: conv (no bias, Paddle's default init) -> BatchNorm -> ReLU6 or
/// nothing, with PaddleClas's keys `_conv.weight`, `_batch_norm.weight` / `.bias` / `._mean` /
/// `._variance`; once reparameterized `_conv.weight`, `_conv.bias`.
/// </summary>
public sealed class MobileNetV2ConvBN : ConvBN
{
    readonly bool _relu6;

    public MobileNetV2ConvBN(long inChannels, long outChannels, long kernelSize, long stride, long padding, long groups, bool relu6)
        : base(nameof(MobileNetV2ConvBN), PaddleInit.Conv(inChannels, outChannels, kernelSize, stride, padding, groups), "_conv", "_batch_norm")
    {
        _relu6 = relu6;
        RegisterComponents();
    }

    // In place, as torchvision's ReLU6(inplace=True): neither the conv's nor the BN's backward needs this output.
    protected override Tensor Activate(Tensor y) => _relu6 ? y.relu6_() : y;

    /// <summary>ReLU6 as Clip(0, 6).</summary>
    protected override string ActivateToOnnx(OnnxGraph graph, string y) => _relu6 ? graph.Clip(y, 0f, 6f) : y;
}

/// <summary>
/// The inverted residual: 1x1 expand (x t, ReLU6) -> 3x3 depthwise (ReLU6) -> 1x1 linear
/// projection, plus the input where the block keeps shape. PaddleClas keeps the expand conv
/// even at t = 1. Keys: `_expand_conv.*`, `_bottleneck_conv.*`, `_linear_conv.*`.
/// </summary>
public sealed class InvertedResidualUnit : ScopedBlock, IOnnxExportable
{
    readonly MobileNetV2ConvBN _expand_conv;
    readonly MobileNetV2ConvBN _bottleneck_conv;
    readonly MobileNetV2ConvBN _linear_conv;
    readonly bool _shortcut;

    public InvertedResidualUnit(long inChannels, long outChannels, long stride, int expansion, bool shortcut)
        : base(nameof(InvertedResidualUnit))
    {
        long expanded = inChannels * expansion;
        _expand_conv = new MobileNetV2ConvBN(inChannels, expanded, 1, 1, 0, 1, relu6: true);
        _bottleneck_conv = new MobileNetV2ConvBN(expanded, expanded, 3, stride, 1, expanded, relu6: true);
        _linear_conv = new MobileNetV2ConvBN(expanded, outChannels, 1, 1, 0, 1, relu6: false);
        _shortcut = shortcut;
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var projected = _linear_conv.call(_bottleneck_conv.call(_expand_conv.call(x)));
        return _shortcut ? x.add(projected) : projected;
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(_expand_conv, "_expand_conv", input);
        y = graph.Module(_bottleneck_conv, "_bottleneck_conv", y);
        y = graph.Module(_linear_conv, "_linear_conv", y);
        return _shortcut ? graph.Add(input, y) : y;
    }
}

/// <summary>
/// One MobileNetV2 stage (PaddleClas `InvresiBlocks` named conv{i}): `_first_block` (stride s,
/// no shortcut), then n - 1 shortcut blocks registered as `conv{i}_2`, `conv{i}_3`, ...
/// </summary>
public sealed class InvertedResidualStage : ScopedBlock, IOnnxExportable
{
    readonly InvertedResidualUnit _first_block;
    readonly List<InvertedResidualUnit> _rest = [];
    readonly List<string> _restNames = [];

    public InvertedResidualStage(string name, long inChannels, MobileNetV2StageConfig config, double scale)
        : base(nameof(InvertedResidualStage))
    {
        long outChannels = (long)(config.Channels * scale);
        _first_block = new InvertedResidualUnit(inChannels, outChannels, config.Stride, config.Expansion, shortcut: false);
        register_module("_first_block", _first_block);
        for (int i = 2; i <= config.Repeats; i++)
        {
            var block = new InvertedResidualUnit(outChannels, outChannels, 1, config.Expansion, shortcut: true);
            register_module($"{name}_{i}", block);
            _rest.Add(block);
            _restNames.Add($"{name}_{i}");
        }
        OutChannels = outChannels;
        RegisterComponents();
    }

    public long OutChannels { get; }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var y = _first_block.call(x);
        foreach (var block in _rest) y = block.call(y);
        return y;
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(_first_block, "_first_block", input);
        for (int i = 0; i < _rest.Count; i++) y = graph.Module(_rest[i], _restNames[i], y);
        return y;
    }
}

// ---- network --------------------------------------------------------------------------------

/// <summary>One MobileNetV2 bottleneck row of the paper's table: expansion t, channels c, repeats n, first stride s.</summary>
public sealed record MobileNetV2StageConfig(int Expansion, int Channels, int Repeats, int Stride);

/// <summary>
/// MobileNetV2 as PaddleClas builds it (`model_zoo/mobilenet_v2.py`): 3x3 stride-2 stem
/// `conv1`, seven inverted-residual stages `conv2` .. `conv8`, 1x1 `conv9` to 1280 channels
/// (1280 x scale above scale 1), global pooling and the classifier `out`. Widths are
/// int(c x scale), not rounded to multiples of 8. The features end with conv9, as in timm.
/// </summary>
public sealed class MobileNetV2 : ClassifierNetwork
{
    public static readonly IReadOnlyList<MobileNetV2StageConfig> StageConfigs =
    [
        new(Expansion: 1, Channels: 16, Repeats: 1, Stride: 1),
        new(Expansion: 6, Channels: 24, Repeats: 2, Stride: 2),
        new(Expansion: 6, Channels: 32, Repeats: 3, Stride: 2),
        new(Expansion: 6, Channels: 64, Repeats: 4, Stride: 2),
        new(Expansion: 6, Channels: 96, Repeats: 3, Stride: 1),
        new(Expansion: 6, Channels: 160, Repeats: 3, Stride: 2),
        new(Expansion: 6, Channels: 320, Repeats: 1, Stride: 1),
    ];

    readonly MobileNetV2ConvBN conv1;
    readonly List<InvertedResidualStage> _stages = [];
    readonly MobileNetV2ConvBN conv9;
    readonly AdaptiveAvgPool2d pool2d_avg;
    // Torch layout [class_num, in]; Paddle's Linear stores [in, class_num] (the weight loader transposes).
    Linear @out;

    public MobileNetV2(double scale, int classNum = 1000) : base(nameof(MobileNetV2))
    {
        long stemChannels = (long)(32 * scale);
        conv1 = new MobileNetV2ConvBN(3, stemChannels, 3, 2, 1, 1, relu6: true);
        register_module("conv1", conv1);
        long channels = stemChannels;
        for (int s = 0; s < StageConfigs.Count; s++)
        {
            string name = $"conv{s + 2}";
            var stage = new InvertedResidualStage(name, channels, StageConfigs[s], scale);
            register_module(name, stage);
            _stages.Add(stage);
            channels = stage.OutChannels;
        }
        long lastChannels = scale > 1.0 ? (long)(1280 * scale) : 1280;
        conv9 = new MobileNetV2ConvBN(channels, lastChannels, 1, 1, 0, 1, relu6: true);
        register_module("conv9", conv9);
        pool2d_avg = nn.AdaptiveAvgPool2d(1);
        register_module("pool2d_avg", pool2d_avg);
        @out = PaddleInit.Linear(lastChannels, classNum);
        register_module("out", @out);
        RegisterComponents();
    }

    public override Linear Classifier { get => @out; protected set => @out = value; }

    public override Tensor ForwardFeatures(Tensor x)
    {
        var y = conv1.call(x);
        foreach (var stage in _stages) y = stage.call(y);
        return conv9.call(y);
    }

    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        var flat = pool2d_avg.call(features).flatten(1);
        return preLogits ? flat : @out.call(flat);
    }

    public override string FeaturesToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(conv1, "conv1", input);
        for (int s = 0; s < _stages.Count; s++) y = graph.Module(_stages[s], $"conv{s + 2}", y);
        return graph.Module(conv9, "conv9", y);
    }

    public override string HeadToOnnx(OnnxGraph graph, string features, bool preLogits = false)
    {
        var flat = graph.Flatten(graph.Module(pool2d_avg, "pool2d_avg", features));
        return preLogits ? flat : graph.Module(@out, "out", flat);
    }

    // ---- the named variants -------------------------------------------------------------

    /// <summary>A registered MobileNetV2: its PaddleClas name and width multiplier.</summary>
    public sealed record Variant(string Name, double Scale);

    public static readonly IReadOnlyList<Variant> Variants =
    [
        new("MobileNetV2_x0_25", 0.25),
        new("MobileNetV2_x0_5", 0.5),
        new("MobileNetV2_x0_75", 0.75),
        new("MobileNetV2", 1.0),
        new("MobileNetV2_x1_5", 1.5),
        new("MobileNetV2_x2_0", 2.0),
    ];

    /// <summary>Every variant takes PaddleClas's eval recipe: resize_short 256, crop 224, bilinear.</summary>
    public static readonly ModelPreset Preset = ModelPreset.ImageNet("conv1._conv.weight", "out.weight") with { PublishedFolder = ModelPreset.ModelZoo };

    /// <summary>
    /// The factory reads class_num only: PaddleClas's other constructor options (prefix_name,
    /// which renames every key, and data_format NHWC) are not offered.
    /// </summary>
    public static void Register(ModelRegistry registry) =>
        registry.Register("MobileNetV2", Variants, v => v.Name, _ => Preset,
            (v, section) => new MobileNetV2(v.Scale, ArchOptions.PositiveInt(section, "class_num", 1000)));
}
