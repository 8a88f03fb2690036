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
}
