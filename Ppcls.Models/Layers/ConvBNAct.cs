using Ppcls.Core.Tensors;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// The HGNet family's <see cref="ConvBN"/>: conv (no bias) -> <see cref="BatchNorm2d"/> -> ReLU, and
/// after the ReLU an optional <see cref="LearnableAffineBlock"/> (PP-HGNetV2's use_lab; a
/// block without activation has no LAB, as in PaddleClas). State-dict keys: `conv.weight`,
/// `bn.weight`, `bn.bias`, `bn._mean`, `bn._variance`, and `lab.scale`, `lab.bias` where a
/// LAB exists. After <see cref="Reparameterize"/> the BN is folded into the conv (`conv.weight`,
/// `conv.bias`); the LAB follows the ReLU, so it stays.
/// <para>
/// Padding is (k - 1) / 2 on every side, or Paddle's "SAME" (<paramref name="samePadding"/>):
/// the output is ceil(in / stride) and the odd pixel of padding goes right and bottom, which
/// PP-HGNetV2's 2x2 stem convs rely on. Padding is zeros, as in Paddle's conv. The conv
/// starts Kaiming-normal, as PaddleClas's `_init_weights` leaves it.
/// </para>
/// </summary>
public sealed class ConvBNAct : ConvBN, IIndirectConvolution
{
    readonly LearnableAffineBlock? lab;
    readonly bool _useAct;
    readonly bool _samePadding;
    readonly long _kernelSize;
    readonly long _stride;

    public ConvBNAct(
        long inChannels,
        long outChannels,
        long kernelSize = 3,
        long stride = 1,
        long groups = 1,
        bool useAct = true,
        bool useLab = false,
        double lrMult = 1.0,
        bool samePadding = false)
        : base(nameof(ConvBNAct), PaddleInit.Conv(inChannels, outChannels, kernelSize, stride: stride,
            padding: samePadding ? 0 : (kernelSize - 1) / 2, groups: groups, kaimingNormal: true))
    {
        _useAct = useAct;
        _samePadding = samePadding;
        _kernelSize = kernelSize;
        _stride = stride;
        if (useAct && useLab) lab = new LearnableAffineBlock(lrMult: lrMult);
        LearningRateMultiplier = lrMult;
        RegisterComponents();
    }

    /// <summary>The learning-rate multiplier of the conv weight and the BN affine parameters (the stage's lr_mult).</summary>
    public double LearningRateMultiplier { get; }

    public LearnableAffineBlock? Lab => lab;

    protected override Tensor Convolve(Tensor x) => _samePadding ? Im2ColConv(PadSame(x)) : base.Convolve(x);

    protected override Tensor Activate(Tensor y)
    {
        if (!_useAct) return y;
        y = nn.functional.relu(y);
        return lab is null ? y : lab.call(y);
    }

    /// <summary>
    /// The SAME-padded conv is an ONNX Conv with the odd pixel of padding after: explicit pads at
    /// stride 1 (k - 1 in all, whatever the size), the runtime's SAME_UPPER otherwise.
    /// </summary>
    protected override string ConvolveToOnnx(OnnxGraph graph, string input) =>
        !_samePadding
            ? base.ConvolveToOnnx(graph, input)
            : graph.Child("conv", () => _stride == 1
                ? graph.Conv(input, Conv, pads: SamePads(_kernelSize))
                : graph.ConvSameUpper(input, Conv));

    protected override string ActivateToOnnx(OnnxGraph graph, string y)
    {
        if (!_useAct) return y;
        y = graph.Relu(y);
        return lab is null ? y : graph.Module(lab, "lab", y);
    }

    /// <summary>Paddle's SAME padding at stride 1 as ONNX pads [top, left, bottom, right].</summary>
    static long[] SamePads(long kernelSize)
    {
        var (before, after) = SamePadding(kernelSize, kernelSize, 1);
        return [before, before, after, after];
    }

    /// <summary>The SAME-padded conv runs as im2col + matmul, not through <see cref="ConvBN.Conv"/>.</summary>
    public Conv2d? IndirectConvolution => _samePadding ? Conv : null;

    /// <summary>
    /// The conv as im2col + matmul. Used for the SAME-padded (2x2 stem) convs: libtorch's oneDNN
    /// conv backward intermittently returned NaN input gradients for PP-HGNetV2's stem2a conv
    /// (caught by anomaly detection in about half of the full test runs; never with this form).
    /// </summary>
    Tensor Im2ColConv(Tensor padded)
    {
        long n = padded.shape[0], k = _kernelSize;
        long outH = (padded.shape[2] - k) / _stride + 1, outW = (padded.shape[3] - k) / _stride + 1;
        var columns = nn.functional.unfold(padded, k, stride: _stride); // [N, C*k*k, H'*W']
        var w = Conv.weight!.reshape(Conv.weight!.shape[0], -1);       // [O, C*k*k], a copy where the weight is NHWC
        // In channels_last the output is made NHWC directly ([N, H'*W', O] viewed as N, O, H', W'), so no reorder follows.
        var y = ChannelsLast.IsStrictly(padded)
            ? matmul(columns.transpose(1, 2), w.t()).view(n, outH, outW, -1).permute(0, 3, 1, 2)
            : matmul(w, columns).view(n, -1, outH, outW);
        return Conv.bias is { } b ? y + b.view(1, -1, 1, 1) : y;
    }

    Tensor PadSame(Tensor x)
    {
        var (top, bottom) = SamePadding(x.shape[2], _kernelSize, _stride);
        var (left, right) = SamePadding(x.shape[3], _kernelSize, _stride);
        return top == 0 && bottom == 0 && left == 0 && right == 0
            ? x
            : nn.functional.pad(x, [left, right, top, bottom]);
    }

    /// <summary>Paddle's "SAME" padding for one axis: (before, after), the larger half after.</summary>
    public static (long Before, long After) SamePadding(long size, long kernelSize, long stride)
    {
        long output = (size + stride - 1) / stride;
        long total = Math.Max((output - 1) * stride + kernelSize - size, 0);
        return (total / 2, total - total / 2);
    }
}
