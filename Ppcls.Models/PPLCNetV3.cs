using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.LCNetV3;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models;

/// <summary>One block of PP-LCNetV3's NET_CONFIG at scale 1.0: depthwise kernel, input and output width, stride, SE.</summary>
public sealed record LCNetV3BlockConfig(int KernelSize, int InChannels, int OutChannels, Stride2d Stride, bool UseSE);

/// <summary>The options of PaddleClas's <c>PPLCNetV3</c> constructor (scale and conv_kxk_num come from the variant).</summary>
public sealed record PPLCNetV3Options(
    double Scale,
    IReadOnlyList<IReadOnlyList<LCNetV3BlockConfig>> Stages,
    int ConvKxkNum = 4,
    int ClassNum = 1000,
    double DropoutProb = 0.2,
    int ClassExpand = 1280,
    IReadOnlyList<double>? LrMultList = null,
    Stride2d? StemStride = null,
    bool UseLastConv = true,
    double LabLr = 0.1);

/// <summary>
/// PP-LCNetV3 (PaddleClas <c>legendary_models/pp_lcnet_v3.py</c>, the backbone of PaddleOCR's
/// <c>rec_lcnetv3.py</c>): <c>conv1</c> (3x3 conv-BN, no activation at stride 2; <c>act1</c> at stride 1),
/// five stages <c>blocks2</c> .. <c>blocks6</c> of <see cref="LCNetV3Block"/>s, global pooling, a 1x1
/// <c>last_conv</c> to class_expand with hard swish + LAB (<c>act</c>) and downscale-in-infer dropout,
/// and the classifier <c>fc</c>. Channels are rounded to multiples of 16. LAB parameters train at
/// lab_lr (0.1) times their stage's lr_mult; <see cref="ModelFusion"/> folds every rep layer.
/// </summary>
public sealed class PPLCNetV3 : LastConvClassifierNetwork, ILearningRateMultipliers
{
    public const int StageCount = 5;

    /// <summary>PaddleClas's NET_CONFIG (PaddleOCR's NET_CONFIG_det): blocks2 .. blocks6.</summary>
    public static readonly IReadOnlyList<IReadOnlyList<LCNetV3BlockConfig>> ClassificationStages =
    [
        [new(3, 16, 32, 1, false)],
        [new(3, 32, 64, 2, false), new(3, 64, 64, 1, false)],
        [new(3, 64, 128, 2, false), new(3, 128, 128, 1, false)],
        [new(3, 128, 256, 2, false), new(5, 256, 256, 1, false), new(5, 256, 256, 1, false), new(5, 256, 256, 1, false), new(5, 256, 256, 1, false)],
        [new(5, 256, 512, 2, true), new(5, 512, 512, 1, true), new(5, 512, 512, 1, false), new(5, 512, 512, 1, false)],
    ];

    /// <summary>PaddleOCR's NET_CONFIG_rec: the text-recognition strides, which keep the width (a 48x320 line image ends 3x80).</summary>
    public static readonly IReadOnlyList<IReadOnlyList<LCNetV3BlockConfig>> RecognitionStages =
    [
        [new(3, 16, 32, 1, false)],
        [new(3, 32, 64, 1, false), new(3, 64, 64, 1, false)],
        [new(3, 64, 128, new Stride2d(2, 1), false), new(3, 128, 128, 1, false)],
        [new(3, 128, 256, new Stride2d(1, 2), false), new(5, 256, 256, 1, false), new(5, 256, 256, 1, false), new(5, 256, 256, 1, false), new(5, 256, 256, 1, false)],
        [new(5, 256, 512, new Stride2d(2, 1), true), new(5, 512, 512, 1, true), new(5, 512, 512, new Stride2d(2, 1), false), new(5, 512, 512, 1, false)],
    ];

    readonly ConvBNLayer conv1;
    readonly LabAct? act1;
    readonly Sequential blocks2;
    readonly Sequential blocks3;
    readonly Sequential blocks4;
    readonly Sequential blocks5;
    readonly Sequential blocks6;
    readonly AdaptiveAvgPool2d avg_pool;
    readonly Conv2d? last_conv;
    readonly LabAct? act;
    readonly DownscaleInInferDropout? dropout;
    readonly Flatten flatten;
    readonly LastConvHead _head;
    readonly IReadOnlyList<double> _lrMult;
    // Torch layout [class_num, in]; Paddle's Linear stores [in, class_num] (the weight loader transposes).
    Linear fc;

    public PPLCNetV3(PPLCNetV3Options options) : base(nameof(PPLCNetV3))
    {
        if (options.Stages.Count != StageCount) throw new ArgumentException($"PP-LCNetV3 has {StageCount} stages, got {options.Stages.Count}", nameof(options));
        _lrMult = options.LrMultList ?? Enumerable.Repeat(1.0, StageCount + 1).ToArray();
        if (_lrMult.Count != StageCount + 1) throw new ArgumentException($"lr_mult_list needs {StageCount + 1} values", nameof(options));
        int Width(int channels) => ChannelRounding.MakeDivisible(channels * options.Scale, 16);
        var stemStride = options.StemStride ?? new Stride2d(2, 2);

        conv1 = new ConvBNLayer(3, Width(16), 3, stemStride);
        if (stemStride is { Height: 1, Width: 1 }) act1 = new LabAct(_lrMult[0], options.LabLr);
        var stages = options.Stages.Select((blocks, s) => nn.Sequential(blocks.Select(b => (nn.Module<Tensor, Tensor>)new LCNetV3Block(
            Width(b.InChannels), Width(b.OutChannels), b.Stride, b.KernelSize, b.UseSE, options.ConvKxkNum, _lrMult[s + 1], options.LabLr)).ToArray())).ToArray();
        (blocks2, blocks3, blocks4, blocks5, blocks6) = (stages[0], stages[1], stages[2], stages[3], stages[4]);

        avg_pool = nn.AdaptiveAvgPool2d(1);
        int features = Width(options.Stages[^1][^1].OutChannels);
        if (options.UseLastConv)
        {
            last_conv = PaddleInit.Conv(features, options.ClassExpand, 1);
            act = new LabAct(1.0, options.LabLr);
            dropout = new DownscaleInInferDropout(options.DropoutProb);
            features = options.ClassExpand;
        }
        flatten = nn.Flatten(1);
        _head = new LastConvHead(avg_pool, last_conv, act, dropout, flatten);
        fc = PaddleInit.Linear(features, options.ClassNum);
        RegisterComponents();
    }

    public override Linear Classifier { get => fc; protected set => fc = value; }

    IEnumerable<(string Name, Sequential Stage)> Stages =>
        [("blocks2", blocks2), ("blocks3", blocks3), ("blocks4", blocks4), ("blocks5", blocks5), ("blocks6", blocks6)];

    public override Tensor ForwardFeatures(Tensor x)
    {
        var y = conv1.call(x);
        if (act1 is not null) y = act1.call(y);
        return LayerChain.Run(y, Stages.Select(s => (nn.Module<Tensor, Tensor>)s.Stage));
    }

    public override string FeaturesToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(conv1, "conv1", input);
        if (act1 is not null) y = graph.Module(act1, "act1", y);
        foreach (var (name, stage) in Stages) y = graph.Module(stage, name, y);
        return y;
    }

    protected override LastConvHead Head => _head;

    protected override nn.Module<Tensor, Tensor> Fc => fc;

    /// <summary>
    /// PaddleClas's ParamAttr learning rates: every parameter of conv1 (with act1) and of blocks2 ..
    /// blocks6 takes its lr_mult_list entry, a LAB's scale and bias lr_mult * lab_lr (the head's LAB:
    /// lab_lr); last_conv and fc train at the base rate. Only multipliers other than 1 are listed.
    /// </summary>
    public IReadOnlyDictionary<string, double> LearningRateMultipliers()
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        var prefixes = new[] { "conv1.", "act1." }.Select(p => (p, _lrMult[0]))
            .Concat(Stages.Select((s, i) => (s.Name + ".", _lrMult[i + 1]))).ToList();
        foreach (var (name, _) in named_parameters())
            foreach (var (prefix, mult) in prefixes)
                if (name.StartsWith(prefix, StringComparison.Ordinal) && mult != 1.0) result[name] = mult;
        foreach (var (name, module) in named_modules())
            if (module is LearnableAffineBlock lab)
            {
                result[name + ".scale"] = lab.LearningRateMultiplier;
                result[name + ".bias"] = lab.LearningRateMultiplier;
            }
        return result;
    }

    // ---- the named variants -------------------------------------------------------------

    /// <summary>A registered PP-LCNetV3: width scale and which stride table (classification, or PaddleOCR's text-recognition one).</summary>
    public sealed record Variant(string Name, double Scale, bool Recognition = false);

    public static readonly IReadOnlyList<Variant> Variants =
    [
        new("PPLCNetV3_x0_35", 0.35),
        new("PPLCNetV3_x0_5", 0.5),
        new("PPLCNetV3_x0_75", 0.75),
        new("PPLCNetV3_x1_0", 1.0),
        // PaddleClas's only published factory, PPLCNetV3_base: scale 0.95 (PP-OCRv4's width).
        new("PPLCNetV3_base", 0.95),
        // PaddleOCR's PP-OCRv4 recognition backbone (scale 0.95, NET_CONFIG_rec) under the classification head.
        new("PPLCNetV3_base_rec", 0.95, Recognition: true),
    ];

    /// <summary>The PP-LCNet eval recipe: resize_short 256, crop 224, bilinear.</summary>
    public static readonly ModelPreset Preset = ModelPreset.ImageNet("conv1.conv.weight", "fc.weight");

    public static void Register(ModelRegistry registry) =>
        registry.Register("PPLCNetV3", Variants, v => v.Name, _ => Preset, (v, section) => new PPLCNetV3(ReadOptions(v, section)));

    /// <summary>
    /// The Arch options PaddleClas's PPLCNetV3 takes besides the factory's scale and conv_kxk_num:
    /// class_num, dropout_prob, class_expand, lr_mult_list (6), stride_list (6: conv1 and each
    /// stage's first block; not for the recognition variant, whose strides are PaddleOCR's), use_last_conv, lab_lr.
    /// </summary>
    public static PPLCNetV3Options ReadOptions(Variant variant, ConfigSection section)
    {
        var stages = variant.Recognition ? RecognitionStages : ClassificationStages;
        var stemStride = new Stride2d(2, 2);
        if (ArchOptions.StrideList(section, "stride_list") is { } strides)
        {
            var location = section.Raw("stride_list")?.Location ?? section.Location;
            if (variant.Recognition)
                throw ConfigException.At(section.KeyPath("stride_list"), location, $"{variant.Name} has PaddleOCR's recognition strides; remove the key or use PPLCNetV3_base");
            if (strides.Count != StageCount + 1)
                throw ConfigException.At(section.KeyPath("stride_list"), location, $"expected {StageCount + 1} strides (conv1 and blocks2 .. blocks6), got {strides.Count}");
            stemStride = strides[0];
            stages = stages.Select((blocks, s) => (IReadOnlyList<LCNetV3BlockConfig>)blocks.Select((b, i) => i == 0 ? b with { Stride = strides[s + 1] } : b).ToList()).ToList();
        }
        var lrMultList = section.OptionalDoubleList("lr_mult_list");
        if (lrMultList is not null && lrMultList.Count != StageCount + 1)
            throw ConfigException.At(section.KeyPath("lr_mult_list"), section.Raw("lr_mult_list")?.Location ?? section.Location,
                $"expected {StageCount + 1} values (conv1 and blocks2 .. blocks6), got {lrMultList.Count}");
        return new PPLCNetV3Options(
            Scale: variant.Scale,
            Stages: stages,
            ClassNum: ArchOptions.PositiveInt(section, "class_num", 1000),
            DropoutProb: ArchOptions.Probability(section, "dropout_prob", 0.2),
            ClassExpand: ArchOptions.PositiveInt(section, "class_expand", 1280),
            LrMultList: lrMultList,
            StemStride: stemStride,
            UseLastConv: section.Bool("use_last_conv", true),
            LabLr: section.Double("lab_lr", 0.1));
    }
}
