using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models;

/// <summary>One depthwise-separable block of PP-LCNet, at scale 1.0.</summary>
public sealed record PPLCNetBlockConfig(int KernelSize, int InChannels, int OutChannels, int Stride, bool UseSE);

/// <summary>The options PaddleClas's `PPLCNet` constructor takes (the scale comes from the variant).</summary>
public sealed record PPLCNetOptions(
    double Scale,
    int ClassNum = 1000,
    double DropoutProb = 0.2,
    int ClassExpand = 1280,
    IReadOnlyList<double>? LrMultList = null,
    IReadOnlyList<Stride2d>? StrideList = null,
    bool UseLastConv = true,
    string Act = "hardswish",
    bool TanhOutput = false);

/// <summary>
/// PP-LCNet (PaddleClas `legendary_models/pp_lcnet.py`): a 3x3 stride-2 stem, five stages of
/// depthwise-separable blocks (`blocks2` .. `blocks6`, 5x5 kernels and SE only late), global
/// pooling, then a 1x1 "last conv" to class_expand channels with activation and
/// downscale-in-infer dropout, and the classifier `fc`. With <see cref="PPLCNetOptions.TanhOutput"/>
/// (PaddleClas's <c>PPLCNet_x2_5_Tanh</c>, the binary-feature ShiTu backbone) the classifier's output
/// goes through tanh and the classifier is <c>fc.origin_layer</c> (<see cref="TanhSuffix"/>).
/// </summary>
public sealed class PPLCNet : LastConvClassifierNetwork, ILearningRateMultipliers
{
    /// <summary>PaddleClas's NET_CONFIG: the blocks of stages blocks2 .. blocks6 at scale 1.0.</summary>
    public static readonly IReadOnlyList<IReadOnlyList<PPLCNetBlockConfig>> Stages =
    [
        [new(3, 16, 32, 1, false)],
        [new(3, 32, 64, 2, false), new(3, 64, 64, 1, false)],
        [new(3, 64, 128, 2, false), new(3, 128, 128, 1, false)],
        [
            new(3, 128, 256, 2, false), new(5, 256, 256, 1, false), new(5, 256, 256, 1, false),
            new(5, 256, 256, 1, false), new(5, 256, 256, 1, false), new(5, 256, 256, 1, false),
        ],
        [new(5, 256, 512, 2, true), new(5, 512, 512, 1, true)],
    ];

    public static readonly IReadOnlyList<Stride2d> DefaultStrideList = [2, 2, 2, 2, 2];
    public static readonly IReadOnlyList<double> DefaultLrMultList = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0];

    readonly ConvBNLayer conv1;
    readonly Sequential blocks2;
    readonly Sequential blocks3;
    readonly Sequential blocks4;
    readonly Sequential blocks5;
    readonly Sequential blocks6;
    readonly AdaptiveAvgPool2d avg_pool;
    readonly Conv2d? last_conv;
    readonly nn.Module<Tensor, Tensor>? act;
    readonly DownscaleInInferDropout? dropout;
    readonly Flatten flatten;
    readonly LastConvHead _head;
    // A Linear, or a TanhSuffix around it. Torch layout [class_num, in]; Paddle's Linear stores
    // [in, class_num] (the weight loader transposes).
    nn.Module<Tensor, Tensor> fc;
    readonly Dictionary<string, double> _lrMultipliers = [];

    public PPLCNet(PPLCNetOptions options) : base(nameof(PPLCNet))
    {
        var strides = options.StrideList ?? DefaultStrideList;
        var lrMults = options.LrMultList ?? DefaultLrMultList;
        if (strides.Count != 5) throw new ArgumentException($"stride_list needs 5 entries, got {strides.Count}", nameof(options));
        if (lrMults.Count != 6) throw new ArgumentException($"lr_mult_list needs 6 entries, got {lrMults.Count}", nameof(options));
        Func<nn.Module<Tensor, Tensor>> activation = Activation(options.Act);
        double scale = options.Scale;

        conv1 = new ConvBNLayer(3, ChannelRounding.MakeDivisible(16 * scale), 3, strides[0], activation: activation());
        var stages = new Sequential[Stages.Count];
        for (int s = 0; s < Stages.Count; s++)
        {
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int b = 0; b < Stages[s].Count; b++)
            {
                var cfg = Stages[s][b];
                // stride_list[1..] replaces the first stride of blocks3 .. blocks6.
                Stride2d stride = b == 0 && s > 0 ? strides[s] : cfg.Stride;
                blocks.Add(new DepthwiseSeparable(
                    ChannelRounding.MakeDivisible(cfg.InChannels * scale),
                    ChannelRounding.MakeDivisible(cfg.OutChannels * scale),
                    stride, cfg.KernelSize, cfg.UseSE, activation));
            }
            stages[s] = nn.Sequential(blocks.ToArray());
        }
        (blocks2, blocks3, blocks4, blocks5, blocks6) = (stages[0], stages[1], stages[2], stages[3], stages[4]);

        avg_pool = nn.AdaptiveAvgPool2d(1);
        int features = ChannelRounding.MakeDivisible(Stages[^1][^1].OutChannels * scale);
        if (options.UseLastConv)
        {
            last_conv = PaddleInit.Conv(features, options.ClassExpand, 1);
            act = activation();
            dropout = new DownscaleInInferDropout(options.DropoutProb);
            features = options.ClassExpand;
        }
        flatten = nn.Flatten(1);
        _head = new LastConvHead(avg_pool, last_conv, act, dropout, flatten);
        var classifier = PaddleInit.Linear(features, options.ClassNum);
        fc = options.TanhOutput ? new TanhSuffix(classifier) : classifier;
        RegisterComponents();

        foreach (var (name, _) in named_parameters())
        {
            int stage = name.StartsWith("conv1.", StringComparison.Ordinal) ? 0
                : name.StartsWith("blocks", StringComparison.Ordinal) ? name[6] - '1' : -1;
            if (stage >= 0) _lrMultipliers[name] = lrMults[stage];
        }
    }

    static Func<nn.Module<Tensor, Tensor>> Activation(string name) => name switch
    {
        "hardswish" => () => nn.Hardswish(),
        "relu" => () => nn.ReLU(),
        "relu6" => () => nn.ReLU6(),
        _ => throw new ArgumentException($"activation '{name}' is not supported; use hardswish, relu or relu6", nameof(name)),
    };

    /// <summary>lr_mult_list: conv1 at entry 0, blocks2 .. blocks6 at entries 1 .. 5; the head at the base rate.</summary>
    public IReadOnlyDictionary<string, double> LearningRateMultipliers() => _lrMultipliers;

    public override Linear Classifier
    {
        get => fc is TanhSuffix tanh ? tanh.Layer : (Linear)fc;
        protected set
        {
            if (fc is TanhSuffix tanh) tanh.Layer = value;
            else fc = value;
        }
    }

    public override Tensor ForwardFeatures(Tensor x) =>
        blocks6.call(blocks5.call(blocks4.call(blocks3.call(blocks2.call(conv1.call(x))))));

    public override string FeaturesToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(conv1, "conv1", input);
        y = graph.Module(blocks2, "blocks2", y);
        y = graph.Module(blocks3, "blocks3", y);
        y = graph.Module(blocks4, "blocks4", y);
        y = graph.Module(blocks5, "blocks5", y);
        return graph.Module(blocks6, "blocks6", y);
    }

    protected override LastConvHead Head => _head;

    protected override nn.Module<Tensor, Tensor> Fc => fc;

    // ---- the named variants -------------------------------------------------------------

    /// <summary>A registered PP-LCNet: its PaddleClas name and width multiplier.</summary>
    public sealed record Variant(string Name, double Scale, bool TanhOutput = false);

    public static readonly IReadOnlyList<Variant> Variants =
    [
        new("PPLCNet_x0_25", 0.25),
        new("PPLCNet_x0_35", 0.35),
        new("PPLCNet_x0_5", 0.5),
        new("PPLCNet_x0_75", 0.75),
        new("PPLCNet_x1_0", 1.0),
        new("PPLCNet_x1_5", 1.5),
        new("PPLCNet_x2_0", 2.0),
        new("PPLCNet_x2_5", 2.5),
        new("PPLCNet_x2_5_Tanh", 2.5, TanhOutput: true),
    ];

    /// <summary>Every variant takes PaddleClas's eval recipe: resize_short 256, crop 224, bilinear.</summary>
    public static readonly ModelPreset Preset = ModelPreset.ImageNet("conv1.conv.weight", "fc.weight") with { PublishedFolder = ModelPreset.LegendaryModels };

    static readonly ModelPreset TanhPreset = Preset with { ClassifierKey = "fc.origin_layer.weight", PublishedFolder = null };

    public static void Register(ModelRegistry registry) =>
        registry.Register("PPLCNet", Variants, v => v.Name, v => v.TanhOutput ? TanhPreset : Preset, (v, section) => new PPLCNet(ReadOptions(v, section)));

    /// <summary>The constructor options from the Arch section, validated with the key's name in every message.</summary>
    public static PPLCNetOptions ReadOptions(Variant variant, ConfigSection section)
    {
        var strides = ArchOptions.StrideList(section, "stride_list");
        if (strides is not null && strides.Count != 5)
            throw ConfigException.At(section.KeyPath("stride_list"), section.Location,
                $"needs 5 strides (conv1, blocks3 .. blocks6), got {strides.Count}; e.g. stride_list: [2, 2, 2, 2, 2]");
        var lrMults = LrMultList(section);
        if (lrMults is not null && lrMults.Count != 6)
            throw ConfigException.At(section.KeyPath("lr_mult_list"), section.Location,
                $"needs 6 multipliers (conv1, blocks2 .. blocks6), got {lrMults.Count}; e.g. lr_mult_list: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]");
        return new PPLCNetOptions(
            Scale: variant.Scale,
            ClassNum: ArchOptions.PositiveInt(section, "class_num", 1000),
            DropoutProb: ArchOptions.Probability(section, "dropout_prob", 0.2),
            ClassExpand: ArchOptions.PositiveInt(section, "class_expand", 1280),
            LrMultList: lrMults,
            StrideList: strides,
            UseLastConv: section.Bool("use_last_conv", true),
            Act: section.Choice("act", "hardswish", "hardswish", "relu", "relu6"),
            TanhOutput: variant.TanhOutput);
    }

    /// <summary>lr_mult_list as a list, or as PaddleClas also accepts, a string holding one ("[0.0, 0.4, ...]").</summary>
    static IReadOnlyList<double>? LrMultList(ConfigSection section)
    {
        if (section.Map["lr_mult_list"] is ConfigScalar { Text: { } text } scalar && text.TrimStart().StartsWith('['))
        {
            section.Raw("lr_mult_list");
            var values = new List<double>();
            foreach (var part in text.Trim().TrimStart('[').TrimEnd(']').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!new ConfigScalar(part).TryDouble(out double v))
                    throw ConfigException.At(section.KeyPath("lr_mult_list"), scalar.Location, $"'{part}' is not a number");
                values.Add(v);
            }
            return values;
        }
        return section.OptionalDoubleList("lr_mult_list");
    }
}
