using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using BatchNorm2d = Ppcls.Models.Layers.BatchNorm2d;

namespace Ppcls.Models.Layers;

/// <summary>
/// Conv2D (no bias, "same" padding (k - 1) / 2) -> BatchNorm -> optional activation, with
/// PaddleClas's PP-LCNet / PP-LCNetV2 state-dict names `conv.weight`, `bn.weight`, `bn.bias`,
/// `bn._mean`, `bn._variance`. After <see cref="Reparameterize"/> the BN is folded into the
/// conv: keys `conv.weight`, `conv.bias`.
/// </summary>
public sealed class ConvBNLayer : nn.Module<Tensor, Tensor>, IReparameterizable, IOnnxExportable
{
    readonly Conv2d conv;
    BatchNorm2d? bn;
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

    /// <summary>The BatchNorm, or null once folded into the conv.</summary>
    public BatchNorm2d? Bn => bn;
    public long KernelSize => conv.weight!.shape[^1];
    public bool IsReparameterized => bn is null;

    public override Tensor forward(Tensor x)
    {
        if (bn is null)
        {
            if (act is null) return conv.call(x);
            using var biased = conv.call(x);
            return act.call(biased);
        }
        if (act is null)
        {
            using var y = conv.call(x);
            return bn.call(y);
        }
        using var c = conv.call(x);
        using var n = bn.call(c);
        return act.call(n);
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = graph.Module(conv, "conv", input);
        if (bn is not null) y = graph.Module(bn, "bn", y);
        return act is null ? y : graph.Module(act, "act", y);
    }

    /// <summary>
    /// The conv and its BN folded into one kernel and bias (eval-mode statistics):
    /// W * gamma / sqrt(var + eps), beta - mean * gamma / sqrt(var + eps); once folded, copies of
    /// the conv's kernel and bias. The caller owns the returned tensors.
    /// </summary>
    public (Tensor Kernel, Tensor Bias) FuseBatchNorm()
    {
        if (bn is not null) return BatchNormFolding.Folded(conv, bn);
        using var _ = no_grad();
        return (conv.weight!.clone(), conv.bias!.clone());
    }

    /// <summary>Folds the BN into the conv (which gains a bias) and removes it from the module.</summary>
    public void Reparameterize()
    {
        if (bn is null) return;
        BatchNormFolding.FoldInto(conv, bn);
        register_module("bn", null!);
        bn.Dispose();
        bn = null;
    }
}
