using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using BatchNorm2d = Ppcls.Models.Layers.BatchNorm2d;

namespace Ppcls.Models;

// ---- blocks ---------------------------------------------------------------------------------

/// <summary>
/// MobileNetV2's conv (no bias) -> BatchNorm -> ReLU6 or nothing, with PaddleClas's keys
/// `_conv.weight`, `_batch_norm.weight` / `.bias` / `._mean` / `._variance`. After
/// <see cref="Reparameterize"/> the BN is folded into the conv: `_conv.weight`, `_conv.bias`.
/// </summary>
public sealed class MobileNetV2ConvBN : nn.Module<Tensor, Tensor>, IReparameterizable, IOnnxExportable
{
    readonly Conv2d _conv;
    BatchNorm2d? _batch_norm;
    readonly bool _relu6;

    public MobileNetV2ConvBN(long inChannels, long outChannels, long kernelSize, long stride, long padding, long groups, bool relu6)
        : base(nameof(MobileNetV2ConvBN))
    {
        _conv = PaddleInit.Conv(inChannels, outChannels, kernelSize, stride, padding, groups);
        _batch_norm = new BatchNorm2d(outChannels);
        _relu6 = relu6;
        RegisterComponents();
    }

    public bool IsReparameterized => _batch_norm is null;

    /// <summary>Folds the BN into the conv (which gains a bias) and removes it from the module.</summary>
    public void Reparameterize()
    {
        if (_batch_norm is null) return;
        BatchNormFolding.FoldInto(_conv, _batch_norm);
        register_module("_batch_norm", null!);
        _batch_norm.Dispose();
        _batch_norm = null;
    }

    public override Tensor forward(Tensor x)
    {
        if (_batch_norm is null)
        {
            var biased = _conv.call(x);
            return _relu6 ? biased.relu6_() : biased;
        }
        using var conv = _conv.call(x);
        var normed = _batch_norm.call(conv);
        // In place, as torchvision's ReLU6(inplace=True): neither the conv's nor the BN's backward needs this output.
        return _relu6 ? normed.relu6_() : normed;
    }

    /// <summary>Conv (BN folded by export), then ReLU6 as Clip(0, 6).</summary>
    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(_conv, "_conv", input);
        if (_batch_norm is not null) y = graph.Module(_batch_norm, "_batch_norm", y);
        return _relu6 ? graph.Clip(y, 0f, 6f) : y;
    }
}

/// <summary>
/// The inverted residual: 1x1 expand (x t, ReLU6) -> 3x3 depthwise (ReLU6) -> 1x1 linear
/// projection, plus the input where the block keeps shape. PaddleClas keeps the expand conv
/// even at t = 1. Keys: `_expand_conv.*`, `_bottleneck_conv.*`, `_linear_conv.*`.
/// </summary>
public sealed class InvertedResidualUnit : nn.Module<Tensor, Tensor>, IOnnxExportable
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

    public override Tensor forward(Tensor x)
    {
        using var expanded = _expand_conv.call(x);
        using var filtered = _bottleneck_conv.call(expanded);
        var projected = _linear_conv.call(filtered);
        if (!_shortcut) return projected;
        using (projected) return x.add(projected);
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
public sealed class InvertedResidualStage : nn.Module<Tensor, Tensor>, IOnnxExportable
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

    public override Tensor forward(Tensor x)
    {
        var y = _first_block.call(x);
        foreach (var block in _rest)
        {
            using var input = y;
            y = block.call(input);
        }
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
/// int(c x scale), not rounded to multiples of 8.
/// </summary>
public sealed class MobileNetV2 : nn.Module<Tensor, Tensor>, IOnnxExportable
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
    readonly Linear @out;

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

    public override Tensor forward(Tensor x)
    {
        var y = conv1.call(x);
        foreach (var stage in _stages)
        {
            using var input = y;
            y = stage.call(input);
        }
        using (y)
        {
            using var features = conv9.call(y);
            using var pooled = pool2d_avg.call(features);
            using var flat = pooled.flatten(1);
            return @out.call(flat);
        }
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(conv1, "conv1", input);
        for (int s = 0; s < _stages.Count; s++) y = graph.Module(_stages[s], $"conv{s + 2}", y);
        y = graph.Module(conv9, "conv9", y);
        y = graph.Module(pool2d_avg, "pool2d_avg", y);
        return graph.Module(@out, "out", graph.Flatten(y));
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
    public static readonly ModelPreset Preset = ModelPreset.ImageNet("conv1._conv.weight", "out.weight");

    /// <summary>
    /// The factory reads class_num only: PaddleClas's other constructor options (prefix_name,
    /// which renames every key, and data_format NHWC) are not offered.
    /// </summary>
    public static void Register(ModelRegistry registry) =>
        registry.Register("MobileNetV2", Variants, v => v.Name, _ => Preset,
            (v, section) => new MobileNetV2(v.Scale, ArchOptions.PositiveInt(section, "class_num", 1000)));
}
