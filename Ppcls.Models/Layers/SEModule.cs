using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Squeeze-and-excitation as PP-LCNet / PP-LCNetV2 build it: global average pool, 1x1 conv
/// (channels / reduction, bias) -> ReLU -> 1x1 conv (channels, bias) -> gate, then x * gate.
/// PP-LCNet gates with Paddle's hard sigmoid, PP-LCNetV2 with a plain sigmoid (its attribute is
/// still called `hardsigmoid`). Keys: `conv1.weight`, `conv1.bias`, `conv2.weight`, `conv2.bias`.
/// </summary>
public sealed class SEModule : ScopedBlock, IOnnxExportable
{
    readonly AdaptiveAvgPool2d avg_pool;
    readonly Conv2d conv1;
    readonly ReLU relu;
    readonly Conv2d conv2;
    readonly nn.Module<Tensor, Tensor> hardsigmoid;

    public SEModule(long channels, nn.Module<Tensor, Tensor> gate, long reduction = 4) : base(nameof(SEModule))
    {
        avg_pool = nn.AdaptiveAvgPool2d(1);
        conv1 = PaddleInit.Conv(channels, channels / reduction, 1, bias: true);
        relu = nn.ReLU();
        conv2 = PaddleInit.Conv(channels / reduction, channels, 1, bias: true);
        hardsigmoid = gate;
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x) => x.mul(hardsigmoid.call(conv2.call(relu.call(conv1.call(avg_pool.call(x))))));

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var pooled = graph.Module(avg_pool, "avg_pool", input);
        var squeezed = graph.Module(conv1, "conv1", pooled);
        var activated = graph.Module(relu, "relu", squeezed);
        var excited = graph.Module(conv2, "conv2", activated);
        var weights = graph.Module(hardsigmoid, "hardsigmoid", excited);
        return graph.Mul(input, weights);
    }
}
