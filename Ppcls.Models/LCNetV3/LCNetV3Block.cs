using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using static TorchSharp.torch;

namespace Ppcls.Models.LCNetV3;

/// <summary>
/// PP-LCNetV3's block: a depthwise <see cref="LearnableRepLayer"/> <c>dw_conv</c> (kernel dw_size,
/// the block's stride), optional <c>se</c> (hard-sigmoid gate), and a pointwise one <c>pw_conv</c>.
/// </summary>
public sealed class LCNetV3Block : ScopedBlock, IOnnxExportable
{
    readonly LearnableRepLayer dw_conv;
    readonly SEModule? se;
    readonly LearnableRepLayer pw_conv;

    public LCNetV3Block(long inChannels, long outChannels, Stride2d stride, long dwSize, bool useSE, int convKxkNum, double lrMult, double labLr)
        : base(nameof(LCNetV3Block))
    {
        dw_conv = new LearnableRepLayer(inChannels, inChannels, dwSize, stride, inChannels, convKxkNum, lrMult, labLr);
        if (useSE) se = new SEModule(inChannels, new HardSigmoid());
        pw_conv = new LearnableRepLayer(inChannels, outChannels, 1, 1, 1, convKxkNum, lrMult, labLr);
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var y = dw_conv.call(x);
        return pw_conv.call(se is null ? y : se.call(y));
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(dw_conv, "dw_conv", input);
        if (se is not null) y = graph.Module(se, "se", y);
        return graph.Module(pw_conv, "pw_conv", y);
    }
}
