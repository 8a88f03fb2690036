using Ppcls.Core.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// The conv + BN (+ ReLU) unit of PaddleClas's ResNet and Res2Net_vd (`ConvBNLayer`): "same" padding
/// (k - 1) / 2, Paddle's default conv init, and in "vd" mode a 2x2 average pool with the stride before a
/// stride-1 conv (the shortcut's downsampling trick of the "bag of tricks" paper). The pool is Paddle's
/// `AvgPool2D(2, stride, padding="SAME", exclusive=True)`: ceil(size / stride) windows, the odd pixel of
/// padding after, each window averaging only the pixels it covers (ResNet writes it so; Res2Net_vd's
/// padding-0 ceil-mode pool at stride 2 is the same pool). ResNet names the children `conv` / `bn`,
/// Res2Net_vd `_conv` / `_batch_norm`; the pool and ReLU have no parameters.
/// </summary>
public sealed class VdConvBN : ConvBN
{
    readonly Stride2d? _poolStride;
    readonly bool _relu;

    /// <param name="stride">The conv's stride, or with <paramref name="poolFirst"/> the pool's.</param>
    public VdConvBN(long inChannels, long outChannels, long kernelSize, Stride2d stride, bool relu = false, bool poolFirst = false,
        string convName = "conv", string bnName = "bn")
        : base(nameof(VdConvBN), PaddleInit.Conv(inChannels, outChannels, kernelSize, poolFirst ? 1 : stride, (kernelSize - 1) / 2), convName, bnName)
    {
        _poolStride = poolFirst ? stride : null;
        _relu = relu;
        RegisterComponents();
    }

    public VdConvBN(long inChannels, long outChannels, long kernelSize, long stride = 1, bool relu = false, bool poolFirst = false,
        string convName = "conv", string bnName = "bn")
        : this(inChannels, outChannels, kernelSize, new Stride2d(stride, stride), relu, poolFirst, convName, bnName)
    {
    }

    protected override Tensor Convolve(Tensor x) => base.Convolve(_poolStride is { } s ? SameExclusiveAvgPool2x2(x, s) : x);

    protected override string ConvolveToOnnx(OnnxGraph graph, string input) =>
        base.ConvolveToOnnx(graph, _poolStride is { } s ? graph.AveragePoolSameUpper(input, 2, s.Height, s.Width) : input);

    /// <summary>
    /// The SAME, exclusive 2x2 pool: where padding is needed, the zero-padded window sums divided by the
    /// number of input pixels in each window (the pooled mask of ones), so padding never counts.
    /// </summary>
    static Tensor SameExclusiveAvgPool2x2(Tensor x, Stride2d stride)
    {
        long padH = SamePadding(x.shape[2], stride.Height), padW = SamePadding(x.shape[3], stride.Width);
        long[] kernel = [2, 2], strides = [stride.Height, stride.Width];
        if (padH == 0 && padW == 0) return nn.functional.avg_pool2d(x, kernel, strides);
        long[] pads = [padW / 2, padW - padW / 2, padH / 2, padH - padH / 2];
        using var mask = ones(1, 1, x.shape[2], x.shape[3], dtype: x.dtype, device: x.device);
        using var paddedMask = nn.functional.pad(mask, pads);
        using var counts = nn.functional.avg_pool2d(paddedMask, kernel, strides);
        using var padded = nn.functional.pad(x, pads);
        using var sums = nn.functional.avg_pool2d(padded, kernel, strides);
        return sums.div(counts);
    }

    /// <summary>Paddle's SAME padding of a size-2 window: enough for ceil(size / stride) windows.</summary>
    static long SamePadding(long size, long stride) => Math.Max(((size + stride - 1) / stride - 1) * stride + 2 - size, 0);

    // In place: neither the BN's nor (once folded) the conv's backward needs this output.
    protected override Tensor Activate(Tensor y) => _relu ? y.relu_() : y;

    protected override string ActivateToOnnx(OnnxGraph graph, string y) => _relu ? graph.Relu(y) : y;
}
