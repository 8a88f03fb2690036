namespace Ppcls.Core.Onnx;

/// <summary>
/// A layer that writes its own inference-time computation into an ONNX graph: the nodes its
/// forward runs, in the same order, with its weights as initializers. Layers call
/// <see cref="OnnxGraph.Module"/> for their children (so names follow the state-dict keys) and
/// the graph's op helpers for what they compute themselves.
/// </summary>
public interface IOnnxExportable
{
    /// <summary>Adds this layer's nodes to <paramref name="graph"/> reading <paramref name="input"/>; returns the output's value name.</summary>
    string ToOnnx(OnnxGraph graph, string input);
}
