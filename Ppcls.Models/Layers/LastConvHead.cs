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
    public Tensor Forward(Tensor features)
    {
        var y = avgPool.call(features);
        if (lastConv is not null)
        {
            y = lastConv.call(y);
            if (act is not null) y = act.call(y);
            y = dropout!.call(y);
        }
        return flatten.call(y);
    }

    public string ToOnnx(OnnxGraph graph, string features)
    {
        var y = graph.Module(avgPool, "avg_pool", features);
        if (lastConv is not null)
        {
            y = graph.Module(lastConv, "last_conv", y);
            if (act is not null) y = graph.Module(act, "act", y);
            y = graph.Module(dropout!, "dropout", y);
        }
        return graph.Module(flatten, "flatten", y);
    }
}
