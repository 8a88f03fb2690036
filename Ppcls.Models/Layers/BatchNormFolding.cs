using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Folds an eval-mode <see cref="BatchNorm2d"/> into the conv before it: with
/// s = gamma / sqrt(var + eps), the kernel becomes W * s (per output channel) and the bias
/// beta + (b - mean) * s (b = 0 for a conv without bias). The conv gains a `bias` parameter
/// where it had none. Exact up to float rounding for BN in eval mode.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>The folded kernel and bias, new tensors the caller owns; neither module changes.</summary>
    public static (Tensor Kernel, Tensor Bias) Folded(Conv2d conv, BatchNorm2d bn)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var scale = bn.Weight.div(bn.RunningVariance.add(bn.Epsilon).sqrt());
        var kernel = conv.weight!.mul(scale.reshape(-1, 1, 1, 1));
        var shifted = conv.bias is null ? bn.RunningMean.neg() : conv.bias.sub(bn.RunningMean);
        var bias = bn.Bias.add(shifted.mul(scale));
        return (kernel.MoveToOuterDisposeScope(), bias.MoveToOuterDisposeScope());
    }

    /// <summary>Writes the folded kernel and bias into <paramref name="conv"/> (in place; the bias is created where missing).</summary>
    public static void FoldInto(Conv2d conv, BatchNorm2d bn)
    {
        var (kernel, bias) = Folded(conv, bn);
        using (kernel)
        using (bias)
        using (no_grad())
        {
            conv.weight!.copy_(kernel);
            if (conv.bias is { } existing) existing.copy_(bias);
            else conv.bias = nn.Parameter(bias.clone(), requires_grad: conv.weight.requires_grad);
        }
    }
}
