using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using BatchNorm2d = Ppcls.Models.Layers.BatchNorm2d;

namespace Ppcls.Models.Layers;

/// <summary>
/// Conv2D (no bias, "same" padding (k - 1) / 2) -> BatchNorm -> optional activation, with
/// PaddleClas's PP-LCNet / PP-LCNetV2 state-dict names `conv.weight`, `bn.weight`, `bn.bias`,
/// `bn._mean`, `bn._variance`.
/// </summary>
public sealed class ConvBNLayer : nn.Module<Tensor, Tensor>
{
    readonly Conv2d conv;
    readonly BatchNorm2d bn;
    readonly nn.Module<Tensor, Tensor>? act;

    public ConvBNLayer(long inChannels, long outChannels, long kernelSize, long stride, long groups = 1, nn.Module<Tensor, Tensor>? activation = null)
        : base(nameof(ConvBNLayer))
    {
        conv = PaddleInit.Conv(inChannels, outChannels, kernelSize, stride, (kernelSize - 1) / 2, groups, kaimingNormal: true);
        bn = new BatchNorm2d(outChannels);
        act = activation;
        RegisterComponents();
    }

    public Conv2d Conv => conv;
    public BatchNorm2d Bn => bn;
    public long KernelSize => conv.weight!.shape[^1];

    public override Tensor forward(Tensor x)
    {
        if (act is null)
        {
            using var y = conv.call(x);
            return bn.call(y);
        }
        using var c = conv.call(x);
        using var n = bn.call(c);
        return act.call(n);
    }

    /// <summary>
    /// The conv and its BN folded into one kernel and bias (eval-mode statistics):
    /// W * gamma / sqrt(var + eps), beta - mean * gamma / sqrt(var + eps).
    /// The caller owns the returned tensors.
    /// </summary>
    public (Tensor Kernel, Tensor Bias) FuseBatchNorm()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var std = bn.RunningVariance.add(bn.Epsilon).sqrt_();
        var scale = bn.Weight.div(std);
        var kernel = conv.weight!.mul(scale.reshape(-1, 1, 1, 1));
        var bias = bn.Bias.sub(bn.RunningMean.mul(scale));
        return (kernel.MoveToOuterDisposeScope(), bias.MoveToOuterDisposeScope());
    }
}
