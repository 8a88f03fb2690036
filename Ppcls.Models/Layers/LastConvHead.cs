using Ppcls.Core.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// The PP-LCNet families' head up to the classifier: global pool, then with use_last_conv a 1x1 conv
/// to class_expand channels, activation (none in PPLCNetV2_base_ShiTu) and downscale-in-infer dropout, then flatten. Not a module: the
/// layers stay the network's own children (`avg_pool`, `last_conv`, `act`, `dropout`, `flatten`), as
/// their PaddleClas names require; this only runs them in order, eagerly and in ONNX.
/// </summary>
public sealed class LastConvHead(AdaptiveAvgPool2d avgPool, Conv2d? lastConv, nn.Module<Tensor, Tensor>? act, DownscaleInInferDropout? dropout, Flatten flatten)
{
    public Tensor Forward(Tensor features) => flatten.call(Neck(avgPool.call(features)));

    /// <summary>The layers between pool and flatten (last conv, act, dropout; none without use_last_conv), on any spatial size.</summary>
    public Tensor Neck(Tensor y)
    {
        if (lastConv is null) return y;
        y = lastConv.call(y);
        return dropout!.call(act is null ? y : act.call(y));
    }

    public string ToOnnx(OnnxGraph graph, string features) =>
        graph.Module(flatten, "flatten", NeckToOnnx(graph, graph.Module(avgPool, "avg_pool", features)));

    public string NeckToOnnx(OnnxGraph graph, string y)
    {
        if (lastConv is null) return y;
        y = graph.Module(lastConv, "last_conv", y);
        if (act is not null) y = graph.Module(act, "act", y);
        return graph.Module(dropout!, "dropout", y);
    }
}
