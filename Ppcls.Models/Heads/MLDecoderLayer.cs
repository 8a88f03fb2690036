using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Heads;

/// <summary>
/// Paddle's <c>nn.TransformerDecoderLayer</c> (post-norm) as ML-Decoder uses it, with its self-attention
/// removed (replaced by the identity, as PaddleClas's <c>remove_self_attn</c> does):
/// t = norm1(t + dropout1(t)); t = norm2(t + dropout2(cross_attn(t, memory)));
/// t = norm3(t + dropout3(linear2(dropout(act(linear1(t)))))). Paddle's names: <c>cross_attn</c>,
/// <c>linear1</c>, <c>linear2</c>, <c>norm1</c>..<c>norm3</c>.
/// </summary>
public sealed class MLDecoderLayer : nn.Module
{
    readonly PaddleMultiHeadAttention cross_attn;
    readonly Linear linear1;
    readonly Dropout dropout;
    readonly Linear linear2;
    readonly LayerNorm norm1;
    readonly LayerNorm norm2;
    readonly LayerNorm norm3;
    readonly Dropout dropout1;
    readonly Dropout dropout2;
    readonly Dropout dropout3;
    readonly bool _gelu;

    public MLDecoderLayer(long embedDim, int numHeads, long hiddenDim, double dropoutProb, bool gelu) : base("TransformerDecoderLayer")
    {
        cross_attn = new PaddleMultiHeadAttention(embedDim, numHeads, dropoutProb);
        linear1 = PaddleInit.Linear(embedDim, hiddenDim);
        dropout = nn.Dropout(dropoutProb);
        linear2 = PaddleInit.Linear(hiddenDim, embedDim);
        norm1 = nn.LayerNorm(embedDim, eps: 1e-5);
        norm2 = nn.LayerNorm(embedDim, eps: 1e-5);
        norm3 = nn.LayerNorm(embedDim, eps: 1e-5);
        dropout1 = nn.Dropout(dropoutProb);
        dropout2 = nn.Dropout(dropoutProb);
        dropout3 = nn.Dropout(dropoutProb);
        _gelu = gelu;
        RegisterComponents();
    }

    public Tensor Forward(Tensor target, Tensor memory)
    {
        var t = norm1.call(target + dropout1.call(target));
        t = norm2.call(t + dropout2.call(cross_attn.Forward(t, memory)));
        var hidden = linear1.call(t);
        hidden = _gelu ? nn.functional.gelu(hidden) : nn.functional.relu(hidden);
        return norm3.call(t + dropout3.call(linear2.call(dropout.call(hidden))));
    }

    public string ToOnnx(OnnxGraph graph, string target, string memory)
    {
        string t = Norm(graph, "norm1", norm1, graph.Add(target, target));
        string attended = graph.Child("cross_attn", () => cross_attn.ToOnnx(graph, t, memory));
        t = Norm(graph, "norm2", norm2, graph.Add(t, attended));
        string hidden = OnnxLinear.Apply(graph, "linear1", linear1, t);
        hidden = _gelu ? graph.Gelu(hidden) : graph.Relu(hidden);
        return Norm(graph, "norm3", norm3, graph.Add(t, OnnxLinear.Apply(graph, "linear2", linear2, hidden)));
    }

    static string Norm(OnnxGraph graph, string name, LayerNorm norm, string x) => graph.Child(name, () => graph.LayerNorm(x, norm));
}
