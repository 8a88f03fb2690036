using Ppcls.Core.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// PP-LCNet's block: depthwise kxk conv-BN-act, optional SE, pointwise 1x1 conv-BN-act.
/// Keys: `dw_conv.*`, `se.conv1.*`, `se.conv2.*`, `pw_conv.*`.
/// </summary>
public sealed class DepthwiseSeparable : ScopedBlock, IOnnxExportable
{
    readonly ConvBNLayer dw_conv;
    readonly SEModule? se;
    readonly ConvBNLayer pw_conv;

    /// <param name="activation">Makes a fresh activation module (one per use).</param>
    public DepthwiseSeparable(long inChannels, long outChannels, Stride2d stride, long kernelSize, bool useSE, Func<nn.Module<Tensor, Tensor>> activation)
        : base(nameof(DepthwiseSeparable))
    {
        dw_conv = new ConvBNLayer(inChannels, inChannels, kernelSize, stride, groups: inChannels, activation: activation());
        se = useSE ? new SEModule(inChannels, new HardSigmoid()) : null;
        pw_conv = new ConvBNLayer(inChannels, outChannels, 1, 1, activation: activation());
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var depthwise = dw_conv.call(x);
        return pw_conv.call(se is null ? depthwise : se.call(depthwise));
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var depthwise = graph.Module(dw_conv, "dw_conv", input);
        if (se is not null) depthwise = graph.Module(se, "se", depthwise);
        return graph.Module(pw_conv, "pw_conv", depthwise);
    }
}
