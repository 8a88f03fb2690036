using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// The conv + BN (+ ReLU) unit of PaddleClas's ResNet and Res2Net_vd (`ConvBNLayer`): "same" padding
/// (k - 1) / 2, Paddle's default conv init, and in "vd" mode a 2x2 stride-2 average pool before a
/// stride-1 conv (the shortcut's downsampling trick of the "bag of tricks" paper). The pool is Paddle's
/// exclusive, ceil-mode pool: a window at an odd border averages only the pixels it covers. ResNet names
/// the children `conv` / `bn`, Res2Net_vd `_conv` / `_batch_norm`; the pool and ReLU have no parameters.
/// </summary>
public sealed class VdConvBN : ConvBN
{
    readonly bool _poolFirst;
    readonly bool _relu;

    /// <param name="stride">The conv's stride, or with <paramref name="poolFirst"/> the pool's (then 2).</param>
    public VdConvBN(long inChannels, long outChannels, long kernelSize, long stride = 1, bool relu = false, bool poolFirst = false,
        string convName = "conv", string bnName = "bn")
        : base(nameof(VdConvBN), PaddleInit.Conv(inChannels, outChannels, kernelSize, poolFirst ? 1 : stride, (kernelSize - 1) / 2), convName, bnName)
    {
        if (poolFirst && stride != 2) throw new ArgumentException($"the vd average pool downsamples by 2, got stride {stride}", nameof(stride));
        _poolFirst = poolFirst;
        _relu = relu;
        RegisterComponents();
    }

    public bool PoolsFirst => _poolFirst;

    protected override Tensor Convolve(Tensor x) =>
        _poolFirst ? base.Convolve(nn.functional.avg_pool2d(x, 2, 2, ceil_mode: true, count_include_pad: false)) : base.Convolve(x);

    protected override string ConvolveToOnnx(OnnxGraph graph, string input) =>
        base.ConvolveToOnnx(graph, _poolFirst ? graph.AveragePool(input, 2, 2, 0, ceilMode: true, countIncludePad: false) : input);

    // In place: neither the BN's nor (once folded) the conv's backward needs this output.
    protected override Tensor Activate(Tensor y) => _relu ? y.relu_() : y;

    protected override string ActivateToOnnx(OnnxGraph graph, string y) => _relu ? graph.Relu(y) : y;
}
