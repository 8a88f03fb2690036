using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// Swin's downsampling between stages on a [B, H, W, C] map (an odd side padded with a zero row or
/// column, as PaddleClas pads): each 2x2 group of tokens joined on channels in PaddleClas's order
/// (x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]), then <c>norm</c> over 4C and the
/// bias-free <c>reduction</c> Linear to 2C.
/// </summary>
public sealed class PatchMerging : ScopedBlock
{
    readonly Linear reduction;
    readonly LayerNorm norm;

    public PatchMerging(long dim) : base(nameof(PatchMerging))
    {
        reduction = SwinInit.Linear(4 * dim, 2 * dim, bias: false);
        norm = nn.LayerNorm(4 * dim, eps: 1e-5);
        RegisterComponents();
    }

    // [B, H/2, 2 (row), W/2, 2 (column), C] -> [B, H/2, W/2, column, row, C]: the four offsets in PaddleClas's order.
    protected override Tensor ForwardInScope(Tensor x)
    {
        long b = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
        if (h % 2 != 0 || w % 2 != 0) x = nn.functional.pad(x, [0, 0, 0, w % 2, 0, h % 2]);
        var joined = x.view(b, (h + 1) / 2, 2, (w + 1) / 2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(b, (h + 1) / 2, (w + 1) / 2, 4 * c);
        return reduction.call(norm.call(joined));
    }

    public string ToOnnx(OnnxGraph graph, string input, int height, int width)
    {
        long c = norm.weight!.shape[0] / 4;
        if (height % 2 != 0 || width % 2 != 0)
            input = graph.Node("Pad", [input, graph.Int64Initializer("pads", [0, 0, 0, 0, 0, height % 2, width % 2, 0])]);
        var split = graph.Reshape(input, [-1, (height + 1) / 2, 2, (width + 1) / 2, 2, c]);
        var joined = graph.Reshape(graph.Transpose(split, [0, 1, 3, 4, 2, 5]), [-1, (height + 1) / 2, (width + 1) / 2, 4 * c]);
        return OnnxLinear.Apply(graph, "reduction", reduction, graph.Child("norm", () => graph.LayerNorm(joined, norm)));
    }
}
