using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models;

/// <summary>
/// One PP-LCNetV2 stage at scale 1.0: its input width (blocks widen to twice that), depthwise
/// kernel, and which of the V2 ideas it uses (split pointwise, rep depthwise, SE, shortcut).
/// </summary>
public sealed record PPLCNetV2StageConfig(int InChannels, int KernelSize, bool SplitPointwise, bool UseRep, bool UseSE, bool UseShortcut);

/// <summary>The options PaddleClas's `PPLCNetV2` factories accept (scale, depths and dropout come from the variant).</summary>
/// <remarks>
/// <see cref="ShiTu"/>: PaddleClas's PP-ShiTuV2 variant (<c>variant_models/pp_lcnetv2_variant.py</c>): the
/// last stage keeps the resolution (both of its first two blocks at stride 1), and the last conv has a
/// bias and no ReLU after it.
/// </remarks>
public sealed record PPLCNetV2Options(double Scale, IReadOnlyList<int> Depths, int ClassNum = 1000, double DropoutProb = 0.0, bool UseLastConv = true, int ClassExpand = 1280,
    bool ShiTu = false);

/// <summary>
/// PP-LCNetV2 (PaddleClas `legendary_models/pp_lcnet_v2.py`): stem (3x3 stride-2 conv-BN-ReLU
/// and one depthwise-separable block), four stages of <see cref="RepDepthwiseSeparable"/>
/// blocks, each starting with stride 2, global pooling, a 1x1 last conv to class_expand with
/// ReLU and downscale-in-infer dropout, and the classifier `fc`. <see cref="Rep"/> fuses the
/// rep branches for inference.
/// </summary>
public sealed class PPLCNetV2 : LastConvClassifierNetwork
{
    /// <summary>PaddleClas's NET_CONFIG, stage1 .. stage4 (the paper's stages 2 .. 5).</summary>
    public static readonly IReadOnlyList<PPLCNetV2StageConfig> StageConfigs =
    [
        new(InChannels: 64, KernelSize: 3, SplitPointwise: false, UseRep: false, UseSE: false, UseShortcut: false),
        new(InChannels: 128, KernelSize: 3, SplitPointwise: false, UseRep: false, UseSE: false, UseShortcut: false),
        new(InChannels: 256, KernelSize: 5, SplitPointwise: true, UseRep: true, UseSE: true, UseShortcut: false),
        new(InChannels: 512, KernelSize: 5, SplitPointwise: false, UseRep: true, UseSE: false, UseShortcut: true),
    ];

    readonly Sequential stem;
    readonly ModuleList<Sequential> stages;
    readonly AdaptiveAvgPool2d avg_pool;
    readonly Conv2d? last_conv;
    readonly ReLU? act;
    readonly DownscaleInInferDropout? dropout;
    readonly Flatten flatten;
    readonly LastConvHead _head;
    // Torch layout [class_num, in]; Paddle's Linear stores [in, class_num] (the weight loader transposes).
    Linear fc;

    public PPLCNetV2(PPLCNetV2Options options) : base(nameof(PPLCNetV2))
    {
        if (options.Depths.Count != StageConfigs.Count)
            throw new ArgumentException($"depths needs {StageConfigs.Count} entries, got {options.Depths.Count}", nameof(options));
        double scale = options.Scale;
        int Width(double channels) => ChannelRounding.MakeDivisible(channels * scale);

        stem = nn.Sequential(
            new ConvBNLayer(3, Width(32), 3, 2, activation: nn.ReLU()),
            new RepDepthwiseSeparable(Width(32), Width(64), stride: 1, kernelSize: 3));

        stages = new ModuleList<Sequential>();
        for (int s = 0; s < StageConfigs.Count; s++)
        {
            var cfg = StageConfigs[s];
            var blocks = new nn.Module<Tensor, Tensor>[options.Depths[s]];
            for (int i = 0; i < blocks.Length; i++)
            {
                blocks[i] = new RepDepthwiseSeparable(
                    Width(i == 0 ? cfg.InChannels : cfg.InChannels * 2),
                    Width(cfg.InChannels * 2),
                    stride: i == 0 && !(options.ShiTu && s == StageConfigs.Count - 1) ? 2 : 1,
                    kernelSize: cfg.KernelSize,
                    splitPointwise: cfg.SplitPointwise,
                    useRep: cfg.UseRep,
                    useSE: cfg.UseSE,
                    useShortcut: cfg.UseShortcut);
            }
            stages.Add(nn.Sequential(blocks));
        }

        avg_pool = nn.AdaptiveAvgPool2d(1);
        int features = Width(StageConfigs[^1].InChannels * 2);
        if (options.UseLastConv)
        {
            last_conv = PaddleInit.Conv(features, options.ClassExpand, 1, bias: options.ShiTu);
            act = options.ShiTu ? null : nn.ReLU();
            dropout = new DownscaleInInferDropout(options.DropoutProb);
            features = options.ClassExpand;
        }
        flatten = nn.Flatten(1);
        _head = new LastConvHead(avg_pool, last_conv, act, dropout, flatten);
        fc = PaddleInit.Linear(features, options.ClassNum);
        RegisterComponents();
    }

    public override Linear Classifier { get => fc; protected set => fc = value; }

    public override Tensor ForwardFeatures(Tensor x) => LayerChain.Run(stem.call(x), stages);

    public override string FeaturesToOnnx(OnnxGraph graph, string input) =>
        LayerChain.Run(graph, graph.Module(stem, "stem", input), stages, "stages");

    protected override LastConvHead Head => _head;

    protected override nn.Module<Tensor, Tensor> Fc => fc;

    /// <summary>Fuses every rep block's depthwise branches into its single conv (PaddleClas `re_parameterize`).</summary>
    public void Rep()
    {
        foreach (var block in modules().OfType<RepDepthwiseSeparable>()) block.Rep();
    }

    // ---- the named variants -------------------------------------------------------------

    /// <summary>A registered PP-LCNetV2: width multiplier, blocks per stage, and the head dropout its factory fixes.</summary>
    public sealed record Variant(string Name, double Scale, IReadOnlyList<int> Depths, double DropoutProb, bool ShiTu = false);

    public static readonly IReadOnlyList<Variant> Variants =
    [
        new("PPLCNetV2_small", Scale: 0.75, Depths: [2, 2, 4, 2], DropoutProb: 0.2),
        new("PPLCNetV2_base", Scale: 1.0, Depths: [2, 2, 6, 2], DropoutProb: 0.2),
        new("PPLCNetV2_large", Scale: 1.25, Depths: [2, 2, 8, 2], DropoutProb: 0.2),
        new("PPLCNetV2_base_ShiTu", Scale: 1.0, Depths: [2, 2, 6, 2], DropoutProb: 0.2, ShiTu: true),
    ];

    /// <summary>Every variant takes PaddleClas's eval recipe: resize_short 256, crop 224, bilinear.</summary>
    public static readonly ModelPreset Preset = ModelPreset.ImageNet("stem.0.conv.weight", "fc.weight") with { PublishedFolder = ModelPreset.LegendaryModels };

    public static void Register(ModelRegistry registry) =>
        registry.Register("PPLCNetV2", Variants, v => v.Name, _ => Preset, (v, section) => new PPLCNetV2(ReadOptions(v, section)));

    /// <summary>
    /// The options from the Arch section. dropout_prob is not one: PaddleClas's factories pass
    /// it themselves, so setting it there fails in PaddleClas too.
    /// </summary>
    public static PPLCNetV2Options ReadOptions(Variant variant, ConfigSection section)
    {
        return new PPLCNetV2Options(
            Scale: variant.Scale,
            Depths: variant.Depths,
            ClassNum: ArchOptions.PositiveInt(section, "class_num", 1000),
            DropoutProb: variant.DropoutProb,
            UseLastConv: section.Bool("use_last_conv", true),
            ClassExpand: ArchOptions.PositiveInt(section, "class_expand", 1280),
            ShiTu: variant.ShiTu);
    }
}
