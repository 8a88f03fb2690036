using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Layers run one after another, eagerly and as the same ONNX chain: plainly (a network's stages), or
/// with the input and every layer's output concatenated on channels (the HG block's feature aggregation).
/// </summary>
public static class LayerChain
{
    public static Tensor Run(Tensor x, IEnumerable<nn.Module<Tensor, Tensor>> layers)
    {
        var y = x;
        foreach (var layer in layers) y = layer.call(y);
        return y;
    }

    /// <summary>The same in ONNX: the layers named `listName.i`, as a ModuleList registers them.</summary>
    public static string Run(OnnxGraph graph, string x, IEnumerable<nn.Module> layers, string listName)
    {
        var y = x;
        int i = 0;
        foreach (var layer in layers) y = graph.Module(layer, $"{listName}.{i++}", y);
        return y;
    }

    public static Tensor ConcatOutputs(Tensor x, IEnumerable<nn.Module<Tensor, Tensor>> layers)
    {
        var outputs = new List<Tensor> { x };
        var y = x;
        foreach (var layer in layers)
        {
            y = layer.call(y);
            outputs.Add(y);
        }
        return cat(outputs, 1);
    }

    /// <summary>The same in ONNX: the layers (`listName.i`) in a chain, then one Concat of the input and every output.</summary>
    public static string ConcatOutputs(OnnxGraph graph, string x, IEnumerable<nn.Module> layers, string listName)
    {
        var outputs = new List<string> { x };
        var y = x;
        int i = 0;
        foreach (var layer in layers)
        {
            y = graph.Module(layer, $"{listName}.{i++}", y);
            outputs.Add(y);
        }
        return graph.Concat(outputs, axis: 1);
    }
}
