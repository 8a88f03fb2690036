using Ppcls.Core.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>
/// The interface every model family offers (timm's shape): <c>forward(x)</c> is
/// <see cref="ForwardHead"/>(<see cref="ForwardFeatures"/>(x)). The features are the backbone's
/// last feature map [N, C, H, W], before pooling; the head pools, runs the family's neck (PP-LCNet's
/// last conv, dropout) and the classifier. <see cref="ForwardHead"/> with <c>preLogits</c> stops
/// before the classifier and returns the flattened [N, <see cref="FeatureSize"/>] classifier input
/// (PaddleClas's <c>BackboneStopLayer: flatten</c> in a RecModel). Every method has its ONNX twin.
/// </summary>
public interface IClassifierModel
{
    /// <summary>The classifier's output width.</summary>
    int ClassNum { get; }

    /// <summary>The classifier's input width: what <see cref="ForwardHead"/> returns with preLogits.</summary>
    int FeatureSize { get; }

    /// <summary>The state-dict key of the classifier weight (<c>fc.weight</c>; MobileNetV2: <c>out.weight</c>).</summary>
    string ClassifierKey { get; }

    /// <summary>The classifier layer.</summary>
    Linear Classifier { get; }

    Tensor ForwardFeatures(Tensor x);

    Tensor ForwardHead(Tensor features, bool preLogits = false);

    /// <summary>
    /// Replaces the classifier by a new one of <paramref name="classNum"/> outputs, initialised as
    /// at construction, on the old one's device and dtype; every other parameter stays as it is.
    /// </summary>
    void ResetClassifier(int classNum);

    /// <summary>The ONNX nodes of <see cref="ForwardFeatures"/>.</summary>
    string FeaturesToOnnx(OnnxGraph graph, string input);

    /// <summary>The ONNX nodes of <see cref="ForwardHead"/>.</summary>
    string HeadToOnnx(OnnxGraph graph, string features, bool preLogits = false);
}
