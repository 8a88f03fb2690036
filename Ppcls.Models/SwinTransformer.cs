using System.Globalization;
using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using Ppcls.Models.Swin;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models;

/// <summary>The options PaddleClas's <c>SwinTransformer</c> constructor takes (the variant fixes embed_dim, depths, heads, window, img_size, drop_path_rate).</summary>
public sealed record SwinOptions(
    int EmbedDim,
    IReadOnlyList<int> Depths,
    IReadOnlyList<int> NumHeads,
    int WindowSize,
    int ImgSize = 224,
    int PatchSize = 4,
    int InChans = 3,
    int ClassNum = 1000,
    double MlpRatio = 4.0,
    bool QkvBias = true,
    double? QkScale = null,
    double DropRate = 0.0,
    double AttnDropRate = 0.0,
    double DropPathRate = 0.1,
    bool Ape = false,
    bool PatchNorm = true);

/// <summary>
/// Swin Transformer (PaddleClas <c>legendary_models/swin_transformer.py</c>): <c>patch_embed</c> (4x4
/// patches, LayerNorm), optional <c>absolute_pos_embed</c>, four <see cref="BasicLayer"/> stages of
/// window attention blocks with patch merging between them, the final <c>norm</c>, the token mean
/// and the classifier <c>head</c>. Tokens travel as a [B, H, W, C] map, so any image size runs (each
/// step pads as PaddleClas does); <c>img_size</c> sizes only the absolute position table. Drop
/// path rates grow linearly from 0 to <c>drop_path_rate</c> over all blocks.
/// </summary>
public sealed class SwinTransformer : ClassifierNetwork
{
    public const int StageCount = 4;

    readonly PatchEmbed patch_embed;
    readonly Parameter? absolute_pos_embed;
    readonly Dropout pos_drop;
    readonly ModuleList<BasicLayer> layers;
    readonly LayerNorm norm;
    Linear head;

    public SwinTransformer(SwinOptions options) : base(nameof(SwinTransformer))
    {
        if (options.Depths.Count != StageCount || options.NumHeads.Count != StageCount)
            throw new ArgumentException($"depths and num_heads need {StageCount} entries each", nameof(options));
        Options = options;

        patch_embed = new PatchEmbed(options.PatchSize, options.InChans, options.EmbedDim, options.PatchNorm);
        if (options.Ape)
        {
            int grid = options.ImgSize / options.PatchSize;
            absolute_pos_embed = new Parameter(zeros(1, (long)grid * grid, options.EmbedDim));
            using (no_grad()) SwinInit.TruncNormal(absolute_pos_embed);
        }
        pos_drop = nn.Dropout(options.DropRate);

        int total = options.Depths.Sum();
        var rates = Enumerable.Range(0, total).Select(i => total == 1 ? 0.0 : options.DropPathRate * i / (total - 1)).ToArray();
        layers = new ModuleList<BasicLayer>();
        int first = 0;
        for (int i = 0; i < StageCount; i++)
        {
            layers.Add(new BasicLayer((long)options.EmbedDim << i, options.Depths[i], options.NumHeads[i], options.WindowSize,
                options.MlpRatio, options.QkvBias, options.QkScale, options.DropRate, options.AttnDropRate,
                rates[first..(first + options.Depths[i])], downsampleAtEnd: i < StageCount - 1));
            first += options.Depths[i];
        }
        long features = (long)options.EmbedDim << (StageCount - 1);
        norm = nn.LayerNorm(features, eps: 1e-5);
        head = SwinInit.Linear(features, options.ClassNum, bias: true);
        RegisterComponents();
    }

    public SwinOptions Options { get; }

    public IReadOnlyList<BasicLayer> Stages => layers.ToList();

    public override Linear Classifier { get => head; protected set => head = value; }

    /// <summary>The last stage's normalised tokens as a feature map [B, C, H, W].</summary>
    public override Tensor ForwardFeatures(Tensor x)
    {
        var tokens = patch_embed.call(x);
        if (absolute_pos_embed is not null) tokens = tokens + PositionTable(tokens.shape[1], tokens.shape[2]);
        return norm.call(LayerChain.Run(pos_drop.call(tokens), layers)).permute(0, 3, 1, 2);
    }

    /// <summary>absolute_pos_embed [1, L, C] as a [1, H, W, C] map; it exists for img_size only.</summary>
    Tensor PositionTable(long height, long width)
    {
        int grid = Options.ImgSize / Options.PatchSize;
        if (height != grid || width != grid)
            throw new PpclsUserException(
                $"Arch.ape: the absolute position table is made for {Options.ImgSize}x{Options.ImgSize} images (Arch.img_size) but the image gives a {height}x{width} patch grid; resize the images or set Arch.img_size");
        return absolute_pos_embed!.view(1, height, width, -1);
    }

    /// <summary>The mean over the map, then <c>head</c>.</summary>
    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        var pooled = features.mean([2, 3]);
        return preLogits ? pooled : head.call(pooled);
    }

    /// <summary>
    /// The features in ONNX for the graph input's spatial size (<paramref name="input"/> is a graph
    /// input of fixed H and W: the window geometry, padding and masks are fixed by it).
    /// </summary>
    public override string FeaturesToOnnx(OnnxGraph graph, string input)
    {
        var dims = graph.Graph.Input.FirstOrDefault(i => i.Name == input)?.Type.TensorType.Shape.Dim
            ?? throw new OnnxExportException("Swin Transformer exports from the graph's image input only (its window geometry depends on the image size)");
        int height = (int)dims[2].DimValue, width = (int)dims[3].DimValue;
        int patch = Options.PatchSize;
        (height, width) = ((height + patch - 1) / patch, (width + patch - 1) / patch);
        var tokens = graph.Child("patch_embed", () => patch_embed.ToOnnx(graph, input, (int)dims[2].DimValue, (int)dims[3].DimValue));
        if (absolute_pos_embed is not null)
        {
            using var scope = NewDisposeScope();
            tokens = graph.Add(tokens, graph.Initializer("absolute_pos_embed", PositionTable(height, width)));
        }
        for (int i = 0; i < layers.Count; i++)
        {
            var (layer, x, h, w) = (layers[i], tokens, height, width);
            (tokens, height, width) = graph.Child("layers", () => graph.Child(i.ToString(CultureInfo.InvariantCulture), () => layer.ToOnnx(graph, x, h, w)));
        }
        var normed = graph.Child("norm", () => graph.LayerNorm(tokens, norm));
        return graph.Transpose(normed, [0, 3, 1, 2]);
    }

    public override string HeadToOnnx(OnnxGraph graph, string features, bool preLogits = false)
    {
        var pooled = graph.Node("ReduceMean", [features], a => a.Ints("axes", [2, 3]).Int("keepdims", 0));
        return preLogits ? pooled : graph.Module(head, "head", pooled);
    }

    // ---- the named variants (PaddleClas's factories) ---------------------------------------

    /// <summary>A registered Swin: its constructor arguments and the eval recipe of its PaddleClas config.</summary>
    public sealed record Variant(string Name, int EmbedDim, IReadOnlyList<int> Depths, IReadOnlyList<int> NumHeads, int WindowSize, int ImgSize,
        double DropPathRate);

    public static readonly IReadOnlyList<Variant> Variants =
    [
        new("SwinTransformer_tiny_patch4_window7_224", 96, [2, 2, 6, 2], [3, 6, 12, 24], 7, 224, 0.2),
        new("SwinTransformer_small_patch4_window7_224", 96, [2, 2, 18, 2], [3, 6, 12, 24], 7, 224, 0.3),
        new("SwinTransformer_base_patch4_window7_224", 128, [2, 2, 18, 2], [4, 8, 16, 32], 7, 224, 0.5),
        new("SwinTransformer_base_patch4_window12_384", 128, [2, 2, 18, 2], [4, 8, 16, 32], 12, 384, 0.5),
        // PaddleClas's large factories leave drop_path_rate at the constructor's 0.1.
        new("SwinTransformer_large_patch4_window7_224", 192, [2, 2, 18, 2], [6, 12, 24, 48], 7, 224, 0.1),
        new("SwinTransformer_large_patch4_window12_384", 192, [2, 2, 18, 2], [6, 12, 24, 48], 12, 384, 0.1),
    ];

    /// <summary>PaddleClas's Swin eval recipe: bicubic resize_short 256 then crop 224 (438 / 384 for the 384 models).</summary>
    public static ModelPreset PresetOf(Variant v) =>
        new ModelPreset(v.ImgSize, v.ImgSize == 384 ? 438 : 256, "bicubic", ModelPreset.ImageNetMean, ModelPreset.ImageNetStd,
            "patch_embed.proj.weight", "head.weight") { TimmKeyMap = TimmSwinNames.ToPaddleClas };

    public static void Register(ModelRegistry registry) =>
        registry.Register("SwinTransformer", Variants, v => v.Name, PresetOf, (v, section) => new SwinTransformer(ReadOptions(v, section)));

    /// <summary>
    /// The Arch options PaddleClas's factories pass on to the constructor: class_num, img_size (the
    /// 224 models only; the 384 factories set it), mlp_ratio, qkv_bias, qk_scale, drop_rate,
    /// attn_drop_rate, ape, patch_norm. drop_path_rate, embed_dim, depths, num_heads and
    /// window_size are the factory's own, so setting them fails in PaddleClas too (and here).
    /// </summary>
    public static SwinOptions ReadOptions(Variant v, ConfigSection section)
    {
        int imgSize = v.ImgSize;
        if (section.Raw("img_size") is { } node)
        {
            if (v.ImgSize != 224)
                throw ConfigException.At(section.KeyPath("img_size"), node.Location ?? section.Location,
                    $"{v.Name} sets img_size to {v.ImgSize} itself (PaddleClas fails on a second one); remove the key");
            imgSize = ArchOptions.PositiveInt(section, "img_size", 224);
        }
        double? qkScale = section.OptionalDouble("qk_scale");
        return new SwinOptions(v.EmbedDim, v.Depths, v.NumHeads, v.WindowSize,
            ImgSize: imgSize,
            ClassNum: ArchOptions.PositiveInt(section, "class_num", 1000),
            MlpRatio: section.Double("mlp_ratio", 4.0),
            QkvBias: section.Bool("qkv_bias", true),
            QkScale: qkScale,
            DropRate: ArchOptions.Probability(section, "drop_rate", 0.0),
            AttnDropRate: ArchOptions.Probability(section, "attn_drop_rate", 0.0),
            DropPathRate: v.DropPathRate,
            Ape: section.Bool("ape", false),
            PatchNorm: section.Bool("patch_norm", true));
    }
}
