using Ppcls.Core.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Paddle's <c>nn.MultiHeadAttention</c> (no masks, no cache): q/k/v projections of [N, L, E] inputs
/// split into <c>num_heads</c> heads, softmax(q k^T / sqrt(head_dim)) with attention dropout, the heads
/// joined again and <c>out_proj</c>. Field names are Paddle's (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>,
/// <c>out_proj</c>); the ONNX twin is <see cref="ToOnnx"/>.
/// </summary>
public sealed class PaddleMultiHeadAttention : nn.Module
{
    readonly Linear q_proj;
    readonly Linear k_proj;
    readonly Linear v_proj;
    readonly Linear out_proj;
    readonly Dropout dropout;

    public PaddleMultiHeadAttention(long embedDim, int numHeads, double attnDropout) : base("MultiHeadAttention")
    {
        if (embedDim % numHeads != 0) throw new ArgumentException($"embed_dim {embedDim} is not divisible by num_heads {numHeads}");
        NumHeads = numHeads;
        HeadDim = embedDim / numHeads;
        q_proj = PaddleInit.Linear(embedDim, embedDim);
        k_proj = PaddleInit.Linear(embedDim, embedDim);
        v_proj = PaddleInit.Linear(embedDim, embedDim);
        out_proj = PaddleInit.Linear(embedDim, embedDim);
        dropout = nn.Dropout(attnDropout);
        RegisterComponents();
    }

    public int NumHeads { get; }
    public long HeadDim { get; }

    /// <summary>Attention of <paramref name="query"/> [N, Lq, E] over <paramref name="memory"/> [N, Lk, E] (keys and values alike).</summary>
    public Tensor Forward(Tensor query, Tensor memory)
    {
        var q = Heads(q_proj.call(query));
        var k = Heads(k_proj.call(memory));
        var v = Heads(v_proj.call(memory));
        var weights = dropout.call(q.mul(Math.Pow(HeadDim, -0.5)).matmul(k.transpose(-1, -2)).softmax(-1));
        var joined = weights.matmul(v).transpose(1, 2);
        return out_proj.call(joined.reshape(joined.shape[0], joined.shape[1], -1));
    }

    Tensor Heads(Tensor x) => x.reshape(x.shape[0], x.shape[1], NumHeads, HeadDim).transpose(1, 2);

    public string ToOnnx(OnnxGraph graph, string query, string memory)
    {
        string q = OnnxHeads(graph, OnnxLinear.Apply(graph, "q_proj", q_proj, query));
        string k = OnnxHeads(graph, OnnxLinear.Apply(graph, "k_proj", k_proj, memory));
        string v = OnnxHeads(graph, OnnxLinear.Apply(graph, "v_proj", v_proj, memory));
        string keysT = graph.Node("Transpose", [k], a => a.Ints("perm", [0, 1, 3, 2]));
        string scores = graph.Node("MatMul", [graph.Scale(q, Math.Pow(HeadDim, -0.5)), keysT]);
        string attended = graph.Node("MatMul", [graph.Softmax(scores), v]);
        string joined = graph.Node("Transpose", [attended], a => a.Ints("perm", [0, 2, 1, 3]));
        string flat = graph.Node("Reshape", [joined, graph.Int64Initializer("joined_shape", [0, 0, -1])]);
        return OnnxLinear.Apply(graph, "out_proj", out_proj, flat);
    }

    string OnnxHeads(OnnxGraph graph, string x)
    {
        string split = graph.Node("Reshape", [x, graph.Int64Initializer("heads_shape", [0, 0, NumHeads, HeadDim])]);
        return graph.Node("Transpose", [split], a => a.Ints("perm", [0, 2, 1, 3]));
    }
}

/// <summary>A Linear on a [N, L, in] input in ONNX: MatMul by the transposed weight, then the bias (Gemm takes 2-D inputs only).</summary>
public static class OnnxLinear
{
    public static string Apply(OnnxGraph graph, string name, Linear linear, string x) =>
        graph.Child(name, () =>
        {
            string y = graph.Node("MatMul", [x, graph.Initializer("weight_t", linear.weight.t().contiguous())]);
            return linear.bias is { } b ? graph.Add(y, graph.Initializer("bias", b)) : y;
        });
}
