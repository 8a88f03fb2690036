using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>
/// A classifier that can stop before its classifier (PaddleClas's <c>BackboneStopLayer: flatten</c>
/// in a RecModel): <see cref="ForwardFeatures"/> returns the flattened [N, FeatureSize] input of
/// its last Linear layer, whose parameters are <see cref="ClassifierParameterPrefix"/>.
/// </summary>
public interface IFeatureBackbone
{
    int FeatureSize { get; }
    string ClassifierParameterPrefix { get; }
    Tensor ForwardFeatures(Tensor x);

    /// <summary>The ONNX nodes of <see cref="ForwardFeatures"/> (the export of a RecModel's embedding).</summary>
    string FeaturesToOnnx(OnnxGraph graph, string input);
}
