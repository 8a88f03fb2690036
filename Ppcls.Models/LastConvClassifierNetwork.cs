using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models;

/// <summary>
/// The PP-LCNet families (V1, V2, V3): a <see cref="LastConvHead"/> (pool, optional last conv,
/// activation, dropout, flatten) then the classifier `fc`; the ML-Decoder reads the head's
/// per-position layers on the feature map.
/// </summary>
public abstract class LastConvClassifierNetwork(string name) : ClassifierNetwork(name)
{
    /// <summary>The head up to the classifier (not a module: its layers are the network's own fields).</summary>
    protected abstract LastConvHead Head { get; }

    /// <summary>The registered `fc` as it runs: the <see cref="ClassifierNetwork.Classifier"/>, or PP-LCNet's Tanh variant wrapping it.</summary>
    protected abstract nn.Module<Tensor, Tensor> Fc { get; }

    public override Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        var y = Head.Forward(features);
        return preLogits ? y : Fc.call(y);
    }

    public override string HeadToOnnx(OnnxGraph graph, string features, bool preLogits = false)
    {
        var y = Head.ToOnnx(graph, features);
        return preLogits ? y : graph.Module(Fc, "fc", y);
    }

    public override bool TakesMlDecoder => true;

    protected override Tensor ForwardNeck(Tensor features) => Head.Neck(features);

    protected override string NeckToOnnx(OnnxGraph graph, string features) => Head.NeckToOnnx(graph, features);
}
