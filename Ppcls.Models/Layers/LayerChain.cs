using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>The HG block's feature aggregation: layers run one after another and the input plus every layer's output are concatenated on channels.</summary>
public static class LayerChain
{
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
