using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// Image to tokens: the image padded right and bottom to whole patches (as PaddleClas pads), the
/// <c>proj</c> conv with kernel and stride patch_size, as a [B, H, W, C] map, then (patch_norm) <c>norm</c>.
/// </summary>
public sealed class PatchEmbed : ScopedBlock
{
    readonly Conv2d proj;
    readonly LayerNorm? norm;

    public PatchEmbed(int patchSize, long inChannels, long embedDim, bool patchNorm) : base(nameof(PatchEmbed))
    {
        PatchSize = patchSize;
        proj = PaddleInit.Conv(inChannels, embedDim, patchSize, stride: patchSize, bias: true);
        if (patchNorm) norm = nn.LayerNorm(embedDim, eps: 1e-5);
        RegisterComponents();
    }

    public int PatchSize { get; }

    int Pad(long side) => (int)((PatchSize - side % PatchSize) % PatchSize);

    protected override Tensor ForwardInScope(Tensor x)
    {
        if (Pad(x.shape[2]) > 0 || Pad(x.shape[3]) > 0) x = nn.functional.pad(x, [0, Pad(x.shape[3]), 0, Pad(x.shape[2])]);
        var tokens = proj.call(x).permute(0, 2, 3, 1);
        return norm is null ? tokens : norm.call(tokens);
    }

    public string ToOnnx(OnnxGraph graph, string input, int height, int width)
    {
        if (Pad(height) > 0 || Pad(width) > 0) input = graph.Pad(input, [0, 0, Pad(height), Pad(width)], "constant");
        var tokens = graph.Transpose(graph.Module(proj, "proj", input), [0, 2, 3, 1]);
        return norm is null ? tokens : graph.Child("norm", () => graph.LayerNorm(tokens, norm));
    }
}
