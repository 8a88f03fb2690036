using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Conv (no bias) -> <see cref="BatchNorm2d"/> -> the family's activation: the unit every family is
/// built from (<see cref="ConvBNLayer"/>, <see cref="ConvBNAct"/>, <see cref="MobileNetV2ConvBN"/>).
/// The two children are registered under the family's PaddleClas names (`conv` / `bn`, MobileNetV2's
/// `_conv` / `_batch_norm`). <see cref="Reparameterize"/> folds the eval-mode BN into the conv: with
/// s = gamma / sqrt(var + eps) the kernel becomes W * s (per output channel) and the conv gains the
/// bias beta - mean * s; the BN leaves the module and the state dict. Exact up to float rounding.
/// </summary>
public abstract class ConvBN : ScopedBlock, IReparameterizable, IOnnxExportable
{
    // Kept out of Module-typed fields: TorchSharp's RegisterComponents registers every such field of a
    // class and its bases under the field's own name, and the families name these children differently.
    readonly Children _children;

    sealed class Children(Conv2d conv, BatchNorm2d bn, string convName, string bnName)
    {
        public Conv2d Conv { get; } = conv;
        public BatchNorm2d? Bn { get; set; } = bn;
        public string ConvName { get; } = convName;
        public string BnName { get; } = bnName;
    }

    protected ConvBN(string name, Conv2d conv, string convName = "conv", string bnName = "bn") : base(name)
    {
        if (conv.bias is not null) throw new ArgumentException("the conv before a BatchNorm has no bias", nameof(conv));
        _children = new Children(conv, new BatchNorm2d(conv.out_channels), convName, bnName);
        register_module(convName, conv);
        register_module(bnName, _children.Bn!);
    }

    public Conv2d Conv => _children.Conv;

    /// <summary>The BatchNorm, or null once folded into the conv.</summary>
    public BatchNorm2d? Bn => _children.Bn;

    public bool IsReparameterized => _children.Bn is null;

    protected sealed override Tensor ForwardInScope(Tensor x)
    {
        var y = Convolve(x);
        return Activate(_children.Bn is { } bn ? bn.call(y) : y);
    }

    /// <summary>Conv (BN folded by export), BN where still present, activation.</summary>
    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = ConvolveToOnnx(graph, input);
        if (_children.Bn is { } bn) y = graph.Module(bn, _children.BnName, y);
        return ActivateToOnnx(graph, y);
    }

    protected virtual Tensor Convolve(Tensor x) => OnePixelDepthwise.Applies(Conv, x) ? OnePixelDepthwise.Forward(Conv, x) : Conv.call(x);

    protected virtual string ConvolveToOnnx(OnnxGraph graph, string input) => graph.Module(Conv, _children.ConvName, input);

    protected abstract Tensor Activate(Tensor y);

    protected abstract string ActivateToOnnx(OnnxGraph graph, string y);

    /// <summary>The conv and BN as one kernel and bias, new tensors the caller owns (once folded: copies of the conv's).</summary>
    public (Tensor Kernel, Tensor Bias) FoldedKernel()
    {
        using var noGrad = no_grad();
        if (_children.Bn is not { } bn) return (Conv.weight!.clone(), Conv.bias!.clone());
        using var scope = NewDisposeScope();
        var scale = bn.Weight.div(bn.RunningVariance.add(bn.Epsilon).sqrt());
        var kernel = Conv.weight!.mul(scale.reshape(-1, 1, 1, 1));
        var bias = bn.Bias.sub(bn.RunningMean.mul(scale));
        return (kernel.MoveToOuterDisposeScope(), bias.MoveToOuterDisposeScope());
    }

    /// <summary>Folds the BN into the conv (which gains a bias) and removes it from the module.</summary>
    public void Reparameterize()
    {
        if (_children.Bn is not { } bn) return;
        var (kernel, bias) = FoldedKernel();
        using (kernel)
        using (bias)
        using (no_grad())
        {
            Conv.weight!.copy_(kernel);
            Conv.bias = nn.Parameter(bias.clone(), requires_grad: Conv.weight.requires_grad);
        }
        register_module(_children.BnName, null!);
        bn.Dispose();
        _children.Bn = null;
    }
}
