using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// Image to tokens: the <c>proj</c> conv with kernel and stride patch_size, flattened to
/// [B, H * W, C], then (patch_norm) <c>norm</c>.
/// </summary>
public sealed class PatchEmbed : ScopedBlock, IOnnxExportable
{
    readonly Conv2d proj;
    readonly LayerNorm? norm;

    public PatchEmbed(int patchSize, long inChannels, long embedDim, bool patchNorm) : base(nameof(PatchEmbed))
    {
        proj = PaddleInit.Conv(inChannels, embedDim, patchSize, stride: patchSize, bias: true);
        if (patchNorm) norm = nn.LayerNorm(embedDim, eps: 1e-5);
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var tokens = proj.call(x).flatten(2).transpose(1, 2);
        return norm is null ? tokens : norm.call(tokens);
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var tokens = graph.Transpose(graph.Reshape(graph.Module(proj, "proj", input), [0, 0, -1]), [0, 2, 1]);
        return norm is null ? tokens : graph.Child("norm", () => graph.LayerNorm(tokens, norm));
    }
}
