using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// Swin's downsampling between stages: each 2x2 group of tokens of the [B, H * W, C] map joined on
/// channels in PaddleClas's order (x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]),
/// then <c>norm</c> over 4C and the bias-free <c>reduction</c> Linear to 2C.
/// </summary>
public sealed class PatchMerging : ScopedBlock, IOnnxExportable
{
    readonly Linear reduction;
    readonly LayerNorm norm;
    readonly int _height;
    readonly int _width;

    public PatchMerging(int height, int width, long dim) : base(nameof(PatchMerging))
    {
        if (height % 2 != 0 || width % 2 != 0) throw new ArgumentException($"patch merging needs an even token map, got {height}x{width}; choose img_size so that every stage halves exactly");
        (_height, _width) = (height, width);
        reduction = SwinInit.Linear(4 * dim, 2 * dim, bias: false);
        norm = nn.LayerNorm(4 * dim, eps: 1e-5);
        RegisterComponents();
    }

    // [B, H/2, 2 (row), W/2, 2 (column), C] -> [B, H/2, W/2, column, row, C]: the four offsets in PaddleClas's order.
    protected override Tensor ForwardInScope(Tensor x)
    {
        long b = x.shape[0], c = x.shape[2];
        var joined = x.view(b, _height / 2, 2, _width / 2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(b, -1, 4 * c);
        return reduction.call(norm.call(joined));
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        long c = norm.weight!.shape[0] / 4;
        var split = graph.Reshape(input, [-1, _height / 2, 2, _width / 2, 2, c]);
        var joined = graph.Reshape(graph.Transpose(split, [0, 1, 3, 4, 2, 5]), [-1, (long)_height / 2 * (_width / 2), 4 * c]);
        return OnnxLinear.Apply(graph, "reduction", reduction, graph.Child("norm", () => graph.LayerNorm(joined, norm)));
    }
}
