using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using BatchNorm2d = Ppcls.Models.Layers.BatchNorm2d;

namespace Ppcls.Models.LCNetV3;

/// <summary>
/// PP-LCNetV3's learnable reparameterisable layer (PaddleOCR's <c>LearnableRepLayer</c>): the sum of
/// <c>conv_kxk</c> (num_conv_branches kxk conv-BN branches), <c>conv_1x1</c> (a 1x1 conv-BN, where k &gt; 1)
/// and <c>identity</c> (a BN, where the layer keeps shape: in == out, stride 1), then <c>lab</c>, then
/// <c>act</c> (hard swish + LAB) unless the stride is 2 in both directions (PaddleOCR's
/// <c>stride != 2</c>: a (2, 1) stride keeps the activation). <see cref="Reparameterize"/> folds every
/// branch into one kxk conv with bias, <c>reparam_conv</c>, and drops the branches.
/// </summary>
public sealed class LearnableRepLayer : ScopedBlock, IReparameterizable, IOnnxExportable
{
    BatchNorm2d? identity;
    ModuleList<ConvBNLayer>? conv_kxk;
    ConvBNLayer? conv_1x1;
    Conv2d? reparam_conv;
    readonly LearnableAffineBlock lab;
    readonly LabAct? act;
    readonly long _inChannels;
    readonly long _outChannels;
    readonly long _kernelSize;
    readonly long _groups;
    readonly Stride2d _stride;

    public LearnableRepLayer(long inChannels, long outChannels, long kernelSize, Stride2d stride, long groups, int numConvBranches,
        double lrMult, double labLr) : base(nameof(LearnableRepLayer))
    {
        (_inChannels, _outChannels, _kernelSize, _groups, _stride) = (inChannels, outChannels, kernelSize, groups, stride);
        if (inChannels == outChannels && stride is { Height: 1, Width: 1 }) identity = new BatchNorm2d(inChannels);
        conv_kxk = new ModuleList<ConvBNLayer>();
        for (int i = 0; i < numConvBranches; i++) conv_kxk.Add(new ConvBNLayer(inChannels, outChannels, kernelSize, stride, groups));
        if (kernelSize > 1) conv_1x1 = new ConvBNLayer(inChannels, outChannels, 1, stride, groups);
        lab = new LearnableAffineBlock(lrMult: lrMult, labLr: labLr);
        if (!(stride is { Height: 2, Width: 2 })) act = new LabAct(lrMult, labLr);
        RegisterComponents();
    }

    public bool IsReparameterized => reparam_conv is not null;

    /// <summary>The parameters of the inference form: one kxk conv with bias.</summary>
    public long FusedParameterCount => _outChannels * (_inChannels / _groups) * _kernelSize * _kernelSize + _outChannels;

    protected override Tensor ForwardInScope(Tensor x)
    {
        Tensor y;
        if (reparam_conv is not null) y = reparam_conv.call(x);
        else
        {
            y = conv_kxk![0].call(x);
            for (int i = 1; i < conv_kxk.Count; i++) y = y + conv_kxk[i].call(x);
            if (conv_1x1 is not null) y = y + conv_1x1.call(x);
            if (identity is not null) y = y + identity.call(x);
        }
        y = lab.call(y);
        return act is null ? y : act.call(y);
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        string y;
        if (reparam_conv is not null) y = graph.Module(reparam_conv, "reparam_conv", input);
        else
        {
            y = graph.Module(conv_kxk![0], "conv_kxk.0", input);
            for (int i = 1; i < conv_kxk.Count; i++) y = graph.Add(y, graph.Module(conv_kxk[i], $"conv_kxk.{i}", input));
            if (conv_1x1 is not null) y = graph.Add(y, graph.Module(conv_1x1, "conv_1x1", input));
            if (identity is not null) y = graph.Add(y, graph.Module(identity, "identity", input));
        }
        y = graph.Module(lab, "lab", y);
        return act is null ? y : graph.Module(act, "act", y);
    }

    /// <summary>
    /// PaddleOCR's <c>rep</c>: each branch's BN folded into its kernel (the identity BN into a centred
    /// one-hot kernel per channel), the 1x1 kernel zero-padded to kxk, kernels and biases summed into
    /// <c>reparam_conv</c>; the branches leave the module and the state dict. Exact for eval-mode BN.
    /// </summary>
    public void Reparameterize()
    {
        if (reparam_conv is not null) return;
        var fused = PaddleInit.Conv(_inChannels, _outChannels, _kernelSize, _stride, (_kernelSize - 1) / 2, _groups, bias: true);
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var (kernel, bias) = (zeros_like(fused.weight!), zeros_like(fused.bias!));
            foreach (var branch in conv_kxk!.Append(conv_1x1).OfType<ConvBNLayer>())
            {
                var (k, b) = branch.FoldedKernel();
                long pad = (_kernelSize - branch.KernelSize) / 2;
                kernel = kernel + (pad == 0 ? k : nn.functional.pad(k, [pad, pad, pad, pad]));
                bias = bias + b;
            }
            if (identity is not null)
            {
                var oneHot = zeros_like(fused.weight!);
                long perGroup = _inChannels / _groups;
                for (long c = 0; c < _inChannels; c++) oneHot[c, c % perGroup, _kernelSize / 2, _kernelSize / 2] = 1.0f;
                var scale = identity.Weight / (identity.RunningVariance + identity.Epsilon).sqrt();
                kernel = kernel + oneHot * scale.reshape(-1, 1, 1, 1);
                bias = bias + identity.Bias - identity.RunningMean * scale;
            }
            fused.weight!.copy_(kernel);
            fused.bias!.copy_(bias);
        }
        foreach (var name in new[] { "identity", "conv_kxk", "conv_1x1" })
            if (named_children().Any(c => c.name == name)) register_module(name, null!);
        identity?.Dispose();
        conv_kxk?.Dispose();
        conv_1x1?.Dispose();
        (identity, conv_kxk, conv_1x1) = (null, null, null);
        register_module("reparam_conv", fused);
        reparam_conv = fused;
    }
}
