using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// One Swin Transformer block on [B, H * W, C] tokens: x + drop_path(W-MSA or SW-MSA(norm1(x))), then
/// x + drop_path(mlp(norm2(x))). A shifted block rolls the map by -shift before the window
/// attention (with the <c>attn_mask</c> buffer keeping the rolled-together regions apart) and back
/// after it. Keys: <c>norm1</c>, <c>attn.*</c>, <c>norm2</c>, <c>mlp.fc1</c>, <c>mlp.fc2</c>.
/// </summary>
public sealed class SwinTransformerBlock : ScopedBlock, IOnnxExportable, IDerivedBuffers
{
    public const string MaskBuffer = "attn_mask";

    readonly LayerNorm norm1;
    readonly WindowAttention attn;
    readonly DropPath drop_path;
    readonly LayerNorm norm2;
    readonly SwinMlp mlp;
    // A non-persistent buffer (shifted blocks only), registered before RegisterComponents (which then skips the field).
    readonly Tensor? attn_mask;

    public SwinTransformerBlock(long dim, SwinWindows windows, int numHeads, double mlpRatio, bool qkvBias, double? qkScale,
        double drop, double attnDrop, double dropPath) : base(nameof(SwinTransformerBlock))
    {
        Windows = windows;
        norm1 = nn.LayerNorm(dim, eps: 1e-5);
        attn = new WindowAttention(dim, windows.Size, numHeads, qkvBias, qkScale, attnDrop, drop);
        drop_path = new DropPath(dropPath);
        norm2 = nn.LayerNorm(dim, eps: 1e-5);
        mlp = new SwinMlp(dim, (long)(dim * mlpRatio), drop);
        attn_mask = windows.AttentionMask();
        if (attn_mask is not null) register_buffer(MaskBuffer, attn_mask, persistent: false);
        RegisterComponents();
    }

    public SwinWindows Windows { get; }

    public double DropPathProbability => drop_path.Probability;

    public IReadOnlyList<string> DerivedBufferNames => attn_mask is null ? [] : [MaskBuffer];

    Tensor? Mask => attn_mask?.to(norm1.weight!.device);

    protected override Tensor ForwardInScope(Tensor x)
    {
        long b = x.shape[0], c = x.shape[2];
        var y = norm1.call(x).view(b, Windows.Height, Windows.Width, c);
        if (Windows.Shift > 0) y = SwinWindows.Roll(y, -Windows.Shift);
        y = Windows.Reverse(attn.Forward(Windows.Partition(y), Mask));
        if (Windows.Shift > 0) y = SwinWindows.Roll(y, Windows.Shift);
        x = x + drop_path.call(y.reshape(b, -1, c));
        return x + drop_path.call(mlp.call(norm2.call(x)));
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        long c = norm1.weight!.shape[0];
        var y = graph.Reshape(graph.Child("norm1", () => graph.LayerNorm(input, norm1)), [-1, Windows.Height, Windows.Width, c]);
        if (Windows.Shift > 0) y = Windows.Roll(graph, y, -Windows.Shift);
        var attended = graph.Child("attn", () => attn.ToOnnx(graph, Windows.Partition(graph, y, c), Mask));
        y = Windows.Reverse(graph, attended, c);
        if (Windows.Shift > 0) y = Windows.Roll(graph, y, Windows.Shift);
        var x = graph.Add(input, graph.Reshape(y, [-1, (long)Windows.Height * Windows.Width, c]));
        return graph.Add(x, graph.Module(mlp, "mlp", graph.Child("norm2", () => graph.LayerNorm(x, norm2))));
    }
}
