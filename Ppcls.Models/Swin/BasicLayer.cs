using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// One Swin stage (PaddleClas's <c>BasicLayer</c>): <c>blocks</c> alternating plain and shifted
/// windows, then (all stages but the last) the <c>downsample</c> patch merging, at the END of the
/// stage as in PaddleClas and the original code (recent timm puts it at the start of the next one).
/// </summary>
public sealed class BasicLayer : ScopedBlock, IOnnxExportable
{
    readonly ModuleList<SwinTransformerBlock> blocks;
    readonly PatchMerging? downsample;

    public BasicLayer(long dim, int height, int width, int depth, int numHeads, int windowSize, double mlpRatio, bool qkvBias,
        double? qkScale, double drop, double attnDrop, IReadOnlyList<double> dropPath, bool downsampleAtEnd) : base(nameof(BasicLayer))
    {
        blocks = new ModuleList<SwinTransformerBlock>();
        for (int i = 0; i < depth; i++)
            blocks.Add(new SwinTransformerBlock(dim, SwinWindows.For(height, width, windowSize, shifted: i % 2 == 1), numHeads, mlpRatio,
                qkvBias, qkScale, drop, attnDrop, dropPath[i]));
        if (downsampleAtEnd) downsample = new PatchMerging(height, width, dim);
        RegisterComponents();
    }

    public IReadOnlyList<SwinTransformerBlock> Blocks => blocks.ToList();

    protected override Tensor ForwardInScope(Tensor x)
    {
        var y = LayerChain.Run(x, blocks);
        return downsample is null ? y : downsample.call(y);
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = LayerChain.Run(graph, input, blocks, "blocks");
        return downsample is null ? y : graph.Module(downsample, "downsample", y);
    }
}
