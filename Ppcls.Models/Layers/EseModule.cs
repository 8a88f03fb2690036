using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Effective squeeze-excitation (VoVNetV2's eSE, PP-HGNet's `att`): global average pool,
/// one 1x1 conv with bias (no channel reduction), sigmoid, and a channel-wise gate on the
/// input. State-dict keys: `conv.weight`, `conv.bias`.
/// </summary>
public sealed class EseModule : ScopedBlock, IOnnxExportable
{
    readonly Conv2d conv;

    public EseModule(long channels) : base(nameof(EseModule))
    {
        conv = PaddleInit.Conv(channels, channels, 1, bias: true, kaimingNormal: true);
        RegisterComponents();
    }

    public Conv2d Conv => conv;

    protected override Tensor ForwardInScope(Tensor x) => x * conv.call(nn.functional.adaptive_avg_pool2d(x, [1, 1])).sigmoid();

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var pooled = graph.GlobalAveragePool(input);
        var logits = graph.Module(conv, "conv", pooled);
        return graph.Mul(input, graph.Sigmoid(logits));
    }
}
