using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// PP-LCNetV2's block. Depthwise part: with rep, parallel depthwise conv-BN branches of kernel
/// k, k-2, ..., 1 (the 1x1 branch only at stride 1; there is no identity-BN branch) whose sum
/// goes through ReLU, and after <see cref="Rep"/> one kxk depthwise conv with bias holding their
/// fusion; without rep, one depthwise conv-BN-ReLU. Then optional SE (sigmoid gate), one
/// pointwise conv-BN-ReLU or two (split: out/2 then out), and a shortcut where asked for,
/// stride 1 and in == out.
/// Keys: `dw_conv_list.{i}.conv/bn.*`, `dw_conv.weight`, `dw_conv.bias` (rep) or
/// `dw_conv.conv/bn.*`, `se.*`, `pw_conv.*` or `pw_conv_1.*` / `pw_conv_2.*`.
/// <see cref="Reparameterize"/> (the inference form) fuses as <see cref="Rep"/> does and then
/// drops `dw_conv_list`; the ConvBNLayers' own BNs are folded by their own Reparameterize.
/// </summary>
public sealed class RepDepthwiseSeparable : ScopedBlock, IReparameterizable, IOnnxExportable
{
    ModuleList<ConvBNLayer>? dw_conv_list;
    readonly nn.Module<Tensor, Tensor> dw_conv;
    readonly ReLU act;
    readonly SEModule? se;
    readonly ConvBNLayer? pw_conv;
    readonly ConvBNLayer? pw_conv_1;
    readonly ConvBNLayer? pw_conv_2;
    readonly long _kernelSize;
    readonly bool _useShortcut;
    readonly bool _useRep;

    public RepDepthwiseSeparable(long inChannels, long outChannels, long stride, long kernelSize = 3,
        bool splitPointwise = false, bool useRep = false, bool useSE = false, bool useShortcut = false)
        : base(nameof(RepDepthwiseSeparable))
    {
        _kernelSize = kernelSize;
        _useShortcut = useShortcut && stride == 1 && inChannels == outChannels;
        _useRep = useRep;
        if (useRep)
        {
            dw_conv_list = new ModuleList<ConvBNLayer>();
            for (long k = kernelSize; k > 0; k -= 2)
            {
                if (k == 1 && stride != 1) continue;
                dw_conv_list.Add(new ConvBNLayer(inChannels, inChannels, k, stride, groups: inChannels));
            }
            dw_conv = PaddleInit.Conv(inChannels, inChannels, kernelSize, stride, (kernelSize - 1) / 2, inChannels, bias: true);
        }
        else
        {
            dw_conv = new ConvBNLayer(inChannels, inChannels, kernelSize, stride, groups: inChannels, activation: nn.ReLU());
        }
        act = nn.ReLU();
        se = useSE ? new SEModule(inChannels, nn.Sigmoid()) : null;
        if (splitPointwise)
        {
            long mid = (long)(outChannels * 0.5);
            pw_conv_1 = new ConvBNLayer(inChannels, mid, 1, 1, activation: nn.ReLU());
            pw_conv_2 = new ConvBNLayer(mid, outChannels, 1, 1, activation: nn.ReLU());
        }
        else
        {
            pw_conv = new ConvBNLayer(inChannels, outChannels, 1, 1, activation: nn.ReLU());
        }
        RegisterComponents();
    }

    public bool UsesRep => _useRep;

    /// <summary>True once the rep branches are fused and dropped (a block without rep: always).</summary>
    public bool IsReparameterized => !_useRep || dw_conv_list is null;

    /// <summary>True once <see cref="Rep"/> has run: forward uses the fused depthwise conv.</summary>
    public bool IsRepped { get; private set; }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var depthwise = Depthwise(x);
        var y = Pointwise(se is null ? depthwise : se.call(depthwise));
        return _useShortcut ? y.add(x) : y;
    }

    Tensor Depthwise(Tensor x)
    {
        if (!_useRep) return dw_conv.call(x);
        if (IsRepped || dw_conv_list is null) return act.call(dw_conv.call(x));
        var sum = dw_conv_list[0].call(x);
        for (int i = 1; i < dw_conv_list.Count; i++) sum.add_(dw_conv_list[i].call(x));
        return act.call(sum);
    }

    Tensor Pointwise(Tensor x) => pw_conv is not null ? pw_conv.call(x) : pw_conv_2!.call(pw_conv_1!.call(x));

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = DepthwiseOnnx(graph, input);
        if (se is not null) y = graph.Module(se, "se", y);
        if (pw_conv is not null) y = graph.Module(pw_conv, "pw_conv", y);
        else y = graph.Module(pw_conv_2!, "pw_conv_2", graph.Module(pw_conv_1!, "pw_conv_1", y));
        return _useShortcut ? graph.Add(y, input) : y;
    }

    /// <summary>The depthwise part: the fused conv (or the branches summed, before fusion), then ReLU.</summary>
    string DepthwiseOnnx(OnnxGraph graph, string input)
    {
        if (!_useRep) return graph.Module(dw_conv, "dw_conv", input);
        if (IsRepped || dw_conv_list is null) return graph.Relu(graph.Module(dw_conv, "dw_conv", input));
        string sum = graph.Module(dw_conv_list[0], "dw_conv_list.0", input);
        for (int i = 1; i < dw_conv_list.Count; i++) sum = graph.Add(sum, graph.Module(dw_conv_list[i], $"dw_conv_list.{i}", input));
        return graph.Relu(sum);
    }

    /// <summary>
    /// PaddleClas's `re_parameterize`: folds every branch's BN into its kernel, zero-pads the
    /// kernels to kxk (centred), sums kernels and biases into `dw_conv`, and switches forward to
    /// it. Exact for eval-mode BN. The branches stay (their keys remain in the state dict).
    /// A block without rep is left as it is.
    /// </summary>
    public void Rep()
    {
        if (dw_conv_list is null) return;
        FuseBranches(dw_conv_list);
    }

    /// <summary>
    /// The inference form: <see cref="Rep"/> (if not yet done), then the branches leave the module
    /// and the state dict, so only `dw_conv.weight` / `dw_conv.bias` remain. Without rep, nothing.
    /// </summary>
    public void Reparameterize()
    {
        if (dw_conv_list is null) return;
        if (!IsRepped) FuseBranches(dw_conv_list);
        register_module("dw_conv_list", null!);
        dw_conv_list.Dispose();
        dw_conv_list = null;
    }

    void FuseBranches(ModuleList<ConvBNLayer> branches)
    {
        var fused = (Conv2d)dw_conv;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            Tensor? kernelSum = null;
            Tensor? biasSum = null;
            foreach (var branch in branches)
            {
                var (kernel, bias) = branch.FoldedKernel();
                long pad = (_kernelSize - branch.KernelSize) / 2;
                var padded = pad == 0 ? kernel : nn.functional.pad(kernel, [pad, pad, pad, pad]);
                kernelSum = kernelSum is null ? padded : kernelSum.add(padded);
                biasSum = biasSum is null ? bias : biasSum.add(bias);
            }
            fused.weight!.copy_(kernelSum!);
            fused.bias!.copy_(biasSum!);
        }
        IsRepped = true;
    }
}
