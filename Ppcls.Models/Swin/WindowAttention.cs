using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// Window multi-head self-attention with a relative position bias (PaddleClas's <c>WindowAttention</c>):
/// qkv, scaled dot product per head, plus the bias gathered from <c>relative_position_bias_table</c>
/// [(2 Wh - 1)(2 Ww - 1), heads] by the fixed <c>relative_position_index</c>, plus the shifted-window
/// mask, softmax, and the <c>proj</c> Linear. The index is a derived, non-persistent buffer: it is
/// rebuilt from the window size, so a file's copy (PaddleClas's .pdparams keep one) is not needed.
/// </summary>
public sealed class WindowAttention : nn.Module, IDerivedBuffers
{
    public const string IndexBuffer = "relative_position_index";

    readonly Parameter relative_position_bias_table;
    // A non-persistent buffer, registered before RegisterComponents (which then skips the field).
    readonly Tensor relative_position_index;
    readonly Linear qkv;
    readonly Dropout attn_drop;
    readonly Linear proj;
    readonly Dropout proj_drop;
    readonly int _windowSize;
    readonly int _heads;
    readonly double _scale;

    public WindowAttention(long dim, int windowSize, int numHeads, bool qkvBias, double? qkScale, double attnDrop, double projDrop)
        : base(nameof(WindowAttention))
    {
        _windowSize = windowSize;
        _heads = numHeads;
        _scale = qkScale ?? Math.Pow(dim / numHeads, -0.5);
        int span = 2 * windowSize - 1;
        relative_position_bias_table = new Parameter(zeros(span * span, numHeads));
        using (no_grad()) SwinInit.TruncNormal(relative_position_bias_table);
        qkv = SwinInit.Linear(dim, dim * 3, qkvBias);
        attn_drop = nn.Dropout(attnDrop);
        proj = SwinInit.Linear(dim, dim, bias: true);
        proj_drop = nn.Dropout(projDrop);
        relative_position_index = RelativePositionIndex(windowSize);
        register_buffer(IndexBuffer, relative_position_index, persistent: false);
        RegisterComponents();
    }

    /// <summary>
    /// For tokens i, j of a window (row-major), (dh + W - 1) (2W - 1) + (dw + W - 1) with dh, dw
    /// the row and column of i minus those of j: the table row of their relative position.
    /// </summary>
    public static Tensor RelativePositionIndex(int windowSize)
    {
        int n = windowSize * windowSize, span = 2 * windowSize - 1;
        var index = new long[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                index[i * n + j] = (i / windowSize - j / windowSize + windowSize - 1) * span + (i % windowSize - j % windowSize + windowSize - 1);
        return tensor(index, [n, n]);
    }

    public IReadOnlyList<string> DerivedBufferNames => [IndexBuffer];

    /// <summary>The bias [1, heads, N, N] the table gives every window.</summary>
    public Tensor RelativePositionBias()
    {
        int n = _windowSize * _windowSize;
        return relative_position_bias_table.index_select(0, relative_position_index.to(relative_position_bias_table.device).view(-1)).view(n, n, -1).permute(2, 0, 1).unsqueeze(0);
    }

    /// <summary>x: [B * windows, N, C]; mask: [windows, N, N] or null.</summary>
    public Tensor Forward(Tensor x, Tensor? mask)
    {
        long b = x.shape[0], n = x.shape[1], c = x.shape[2];
        var parts = qkv.call(x).view(b, n, 3, _heads, c / _heads).permute(2, 0, 3, 1, 4);
        var (q, k, v) = (parts[0] * _scale, parts[1], parts[2]);
        var attn = q.matmul(k.transpose(-2, -1)) + RelativePositionBias();
        if (mask is not null)
        {
            long windows = mask.shape[0];
            attn = (attn.view(b / windows, windows, _heads, n, n) + mask.unsqueeze(1).unsqueeze(0)).view(b, _heads, n, n);
        }
        attn = attn_drop.call(attn.softmax(-1));
        var y = attn.matmul(v).transpose(1, 2).reshape(b, n, c);
        return proj_drop.call(proj.call(y));
    }

    /// <summary>
    /// The same in ONNX: q, k and v as three MatMuls by the rows of the qkv weight, the bias (and
    /// the mask, folded into one [1, windows, heads, N, N] constant) added to the scores.
    /// </summary>
    public string ToOnnx(OnnxGraph graph, string x, Tensor? mask)
    {
        int n = _windowSize * _windowSize;
        long c = qkv.in_features, headDim = c / _heads;
        string Head(int part, string name) => graph.Child(name, () =>
        {
            using var scope = NewDisposeScope();
            var y = graph.MatMul(x, graph.Initializer("weight_t", qkv.weight[TensorIndex.Slice(part * c, (part + 1) * c)].t()));
            if (qkv.bias is { } bias) y = graph.Add(y, graph.Initializer("bias", bias[TensorIndex.Slice(part * c, (part + 1) * c)]));
            return graph.Transpose(graph.Reshape(y, [-1, n, _heads, headDim]), [0, 2, 1, 3]);
        });
        string q = graph.Scale(Head(0, "q"), _scale), k = Head(1, "k"), v = Head(2, "v");
        var scores = graph.MatMul(q, graph.Transpose(k, [0, 1, 3, 2]));
        string attn;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var bias = RelativePositionBias();
            if (mask is null) attn = graph.Add(scores, graph.Initializer("relative_position_bias", bias));
            else
            {
                long windows = mask.shape[0];
                var both = bias.unsqueeze(0) + mask.unsqueeze(1).unsqueeze(0);
                attn = graph.Reshape(graph.Add(graph.Reshape(scores, [-1, windows, _heads, n, n]), graph.Initializer("bias_and_mask", both)), [-1, _heads, n, n]);
            }
        }
        var y = graph.Reshape(graph.Transpose(graph.MatMul(graph.Softmax(attn), v), [0, 2, 1, 3]), [-1, n, c]);
        return OnnxLinear.Apply(graph, "proj", proj, y);
    }
}
