using System.Globalization;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// One Swin stage on a [B, H, W, C] map (PaddleClas's <c>BasicLayer</c>): <c>blocks</c> alternating
/// plain and shifted windows, then (all stages but the last) the <c>downsample</c> patch merging,
/// at the END of the stage as in PaddleClas and the original code (recent timm puts it at the
/// start of the next stage; <see cref="TimmSwinNames"/> maps the names).
/// </summary>
public sealed class BasicLayer : ScopedBlock
{
    readonly ModuleList<SwinTransformerBlock> blocks;
    readonly PatchMerging? downsample;

    public BasicLayer(long dim, int depth, int numHeads, int windowSize, double mlpRatio, bool qkvBias, double? qkScale,
        double drop, double attnDrop, IReadOnlyList<double> dropPath, bool downsampleAtEnd) : base(nameof(BasicLayer))
    {
        blocks = new ModuleList<SwinTransformerBlock>();
        for (int i = 0; i < depth; i++)
            blocks.Add(new SwinTransformerBlock(dim, numHeads, windowSize, shifted: i % 2 == 1, mlpRatio, qkvBias, qkScale, drop, attnDrop, dropPath[i]));
        if (downsampleAtEnd) downsample = new PatchMerging(dim);
        RegisterComponents();
    }

    public IReadOnlyList<SwinTransformerBlock> Blocks => blocks.ToList();

    protected override Tensor ForwardInScope(Tensor x)
    {
        var y = LayerChain.Run(x, blocks);
        return downsample is null ? y : downsample.call(y);
    }

    /// <summary>The stage in ONNX on an H x W map; returns the output and its size.</summary>
    public (string Output, int Height, int Width) ToOnnx(OnnxGraph graph, string input, int height, int width)
    {
        var y = input;
        for (int i = 0; i < blocks.Count; i++)
        {
            var block = blocks[i];
            var x = y;
            y = graph.Child("blocks", () => graph.Child(i.ToString(CultureInfo.InvariantCulture), () => block.ToOnnx(graph, x, height, width)));
        }
        if (downsample is null) return (y, height, width);
        var merged = graph.Child("downsample", () => downsample.ToOnnx(graph, y, height, width));
        return (merged, (height + 1) / 2, (width + 1) / 2);
    }
}
