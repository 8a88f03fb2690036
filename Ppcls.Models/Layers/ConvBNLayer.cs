using Ppcls.Core.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// PP-LCNet's and PP-LCNetV2's <see cref="ConvBN"/>: "same" padding (k - 1) / 2, Kaiming-normal conv,
/// optional activation module (`act`). Keys `conv.weight`, `bn.weight`, `bn.bias`, `bn._mean`,
/// `bn._variance`; once reparameterized `conv.weight`, `conv.bias`.
/// </summary>
public sealed class ConvBNLayer : ConvBN
{
    readonly nn.Module<Tensor, Tensor>? act;

    public ConvBNLayer(long inChannels, long outChannels, long kernelSize, Stride2d stride, long groups = 1, nn.Module<Tensor, Tensor>? activation = null)
        : base(nameof(ConvBNLayer), PaddleInit.Conv(inChannels, outChannels, kernelSize, stride, (kernelSize - 1) / 2, groups, kaimingNormal: true))
    {
        act = activation;
        RegisterComponents();
    }

    public long KernelSize => Conv.weight!.shape[^1];

    protected override Tensor Activate(Tensor y) => act is null ? y : act.call(y);

    protected override string ActivateToOnnx(OnnxGraph graph, string y) => act is null ? y : graph.Module(act, "act", y);
}
