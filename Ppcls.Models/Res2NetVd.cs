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
/// Res2Net's bottleneck (PaddleClas `model_zoo/res2net_vd.py` `BottleneckBlock`): 1x1 `conv0` to w x s
/// channels, split into s groups; each of the first s - 1 groups goes through its own 3x3 conv
/// (`{name}_branch2b_{i}`, stride, ReLU), adding the previous group's output first when the block keeps
/// its size; the last group passes through (or through a 3x3 stride-2 exclusive average pool); the groups
/// are concatenated, 1x1 `conv2` restores the width, and the input or the projection `short` (vd:
/// average pool, then 1x1 conv) is added before the ReLU.
/// </summary>
public sealed class Res2NetBottleneckBlock : ScopedBlock, IOnnxExportable
{
    readonly VdConvBN conv0;
    readonly List<VdConvBN> _branches = [];
    readonly List<string> _branchNames = [];
    readonly VdConvBN conv2;
    readonly VdConvBN? @short;
    readonly long _stride;
    readonly long _groupWidth;

    public Res2NetBottleneckBlock(string name, long inChannels, long outChannels, long filters, long stride, int scales, bool projection, bool poolShortcut)
        : base(nameof(Res2NetBottleneckBlock))
    {
        _stride = stride;
        _groupWidth = filters / scales;
        conv0 = Unit(inChannels, filters, 1, 1, relu: true);
        register_module("conv0", conv0);
        for (int s = 1; s < scales; s++)
        {
            var branch = Unit(_groupWidth, _groupWidth, 3, stride, relu: true);
            string branchName = $"{name}_branch2b_{s}";
            register_module(branchName, branch);
            _branches.Add(branch);
            _branchNames.Add(branchName);
        }
        conv2 = Unit(filters, outChannels, 1, 1, relu: false);
        register_module("conv2", conv2);
        if (projection)
        {
            @short = Unit(inChannels, outChannels, 1, poolShortcut ? 2 : 1, relu: false, poolShortcut);
            register_module("short", @short);
        }
        RegisterComponents();
    }

    /// <summary>Res2Net_vd's conv + BN, keys `_conv.weight`, `_batch_norm._mean` ...</summary>
    public static VdConvBN Unit(long inChannels, long outChannels, long kernelSize, long stride, bool relu, bool poolFirst = false) =>
        new(inChannels, outChannels, kernelSize, stride, relu, poolFirst, "_conv", "_batch_norm");

    protected override Tensor ForwardInScope(Tensor x)
    {
        var groups = conv0.call(x).split(_groupWidth, 1);
        var outputs = new List<Tensor>();
        for (int s = 0; s < _branches.Count; s++)
            outputs.Add(_branches[s].call(s == 0 || _stride == 2 ? groups[s] : groups[s].add(outputs[^1])));
        outputs.Add(_stride == 1 ? groups[^1] : nn.functional.avg_pool2d(groups[^1], 3, _stride, 1, count_include_pad: false));
        var y = conv2.call(cat(outputs, 1));
        return y.add(@short is null ? x : @short.call(x)).relu_();
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(conv0, "conv0", input);
        var axes = graph.Int64Initializer("split_axes", [1]);
        var groups = new List<string>();
        for (int s = 0; s <= _branches.Count; s++)
        {
            var starts = graph.Int64Initializer($"split_{s}_start", [s * _groupWidth]);
            var ends = graph.Int64Initializer($"split_{s}_end", [(s + 1) * _groupWidth]);
            groups.Add(graph.Node("Slice", [y, starts, ends, axes]));
        }
        var outputs = new List<string>();
        for (int s = 0; s < _branches.Count; s++)
            outputs.Add(graph.Module(_branches[s], _branchNames[s], s == 0 || _stride == 2 ? groups[s] : graph.Add(groups[s], outputs[^1])));
        outputs.Add(_stride == 1 ? groups[^1] : graph.AveragePool(groups[^1], 3, _stride, 1, countIncludePad: false));
        y = graph.Module(conv2, "conv2", graph.Concat(outputs));
        return graph.Relu(graph.Add(y, @short is null ? input : graph.Module(@short, "short", input)));
    }
}

// ---- network --------------------------------------------------------------------------------

/// <summary>
/// Res2Net_vd as PaddleClas builds it (`model_zoo/res2net_vd.py`): the vd stem `conv1_1`, `conv1_2`,
/// `conv1_3` (3x3; 32, 32, 64), a 3x3 stride-2 max pool, bottleneck blocks registered one by one as
/// `bb_{stage}_{i}` (outputs 256, 512, 1024, 2048; inner width w x s doubling per stage), global average
/// pooling and the classifier `out`.
/// </summary>
public sealed class Res2NetVd : ClassifierNetwork
{
    public static readonly IReadOnlyList<long> StageOutputs = [256, 512, 1024, 2048];

    readonly VdConvBN conv1_1;
    readonly VdConvBN conv1_2;
    readonly VdConvBN conv1_3;
    readonly List<Res2NetBottleneckBlock> _blocks = [];
    readonly List<string> _blockNames = [];
    Linear @out;

    public Res2NetVd(Variant variant, int classNum = 1000) : base(nameof(Res2NetVd))
    {
        conv1_1 = Res2NetBottleneckBlock.Unit(3, 32, 3, 2, relu: true);
        conv1_2 = Res2NetBottleneckBlock.Unit(32, 32, 3, 1, relu: true);
        conv1_3 = Res2NetBottleneckBlock.Unit(32, 64, 3, 1, relu: true);
        register_module("conv1_1", conv1_1);
        register_module("conv1_2", conv1_2);
        register_module("conv1_3", conv1_3);
        long channels = 64;
        long basicWidth = (long)variant.Width * variant.Scales;
        for (int s = 0; s < variant.Depths.Count; s++)
            for (int i = 0; i < variant.Depths[s]; i++)
            {
                var block = new Res2NetBottleneckBlock(PaddleBlockName(variant, s, i), channels, StageOutputs[s], basicWidth << s,
                    stride: i == 0 && s > 0 ? 2 : 1, variant.Scales, projection: i == 0, poolShortcut: i == 0 && s > 0);
                string name = $"bb_{s}_{i}";
                register_module(name, block);
                _blocks.Add(block);
                _blockNames.Add(name);
                channels = StageOutputs[s];
            }
        @out = PaddleInit.Linear(channels, classNum);
        register_module("out", @out);
        RegisterComponents();
    }

    /// <summary>PaddleClas's conv names: res{stage+2}{a, b, c ...}, and for the deep third stage of 101 / 152 / 200 res4a, res4b1, res4b2 ...</summary>
    static string PaddleBlockName(Variant variant, int stage, int index) =>
        variant.Depths[2] > 6 && stage == 2
            ? (index == 0 ? "res4a" : $"res4b{index}")
            : $"res{stage + 2}{(char)('a' + index)}";

    public override Linear Classifier { get => @out; protected set => @out = value; }

    public override Tensor ForwardFeatures(Tensor x)
    {
        var y = nn.functional.max_pool2d(conv1_3.call(conv1_2.call(conv1_1.call(x))), 3, 2, 1);
        return LayerChain.Run(y, _blocks);
    }

    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        var y = nn.functional.adaptive_avg_pool2d(features, [1, 1]).flatten(1);
        return preLogits ? y : @out.call(y);
    }

    public override string FeaturesToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(conv1_1, "conv1_1", input);
        y = graph.Module(conv1_3, "conv1_3", graph.Module(conv1_2, "conv1_2", y));
        y = graph.Child("pool2d_max", () => graph.MaxPool(y, kernel: 3, stride: 2, pads: [1, 1, 1, 1]));
        for (int i = 0; i < _blocks.Count; i++) y = graph.Module(_blocks[i], _blockNames[i], y);
        return y;
    }

    public override string HeadToOnnx(OnnxGraph graph, string features, bool preLogits = false)
    {
        var y = graph.Flatten(graph.GlobalAveragePool(features));
        return preLogits ? y : graph.Module(@out, "out", y);
    }

    // ---- the named variants -------------------------------------------------------------

    /// <summary>A registered Res2Net_vd: its PaddleClas name, blocks per stage, group width w and scale s.</summary>
    public sealed record Variant(string Name, IReadOnlyList<int> Depths, int Width = 26, int Scales = 4);

    public static readonly IReadOnlyList<Variant> Variants =
    [
        new("Res2Net50_vd_26w_4s", [3, 4, 6, 3]),
        new("Res2Net101_vd_26w_4s", [3, 4, 23, 3]),
        new("Res2Net200_vd_26w_4s", [3, 12, 48, 3]),
    ];

    /// <summary>Every variant takes PaddleClas's eval recipe: resize_short 256, crop 224, bilinear.</summary>
    public static readonly ModelPreset Preset = ModelPreset.ImageNet("conv1_1._conv.weight", "out.weight") with { PublishedFolder = ModelPreset.ModelZoo };

    /// <summary>The factory reads class_num (PaddleClas's Res2Net_vd takes no other option; the rest of its keys are refused as unknown).</summary>
    public static void Register(ModelRegistry registry) =>
        registry.Register("Res2Net", Variants, v => v.Name, _ => Preset,
            (v, section) => new Res2NetVd(v, ArchOptions.PositiveInt(section, "class_num", 1000)));
}
