using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// One Swin Transformer block on a [B, H, W, C] token map: x + drop_path(W-MSA or SW-MSA(norm1(x))),
/// then x + drop_path(mlp(norm2(x))). A shifted block rolls the (padded) map by -shift before the
/// window attention, with a mask keeping the regions the roll brought together apart, and back
/// after it. The mask is computed once per map size and kept. Keys: <c>norm1</c>, <c>attn.*</c>,
/// <c>norm2</c>, <c>mlp.fc1</c>, <c>mlp.fc2</c>; a file's <c>attn_mask</c> (older timm) is ignored.
/// </summary>
public sealed class SwinTransformerBlock : ScopedBlock, IDerivedBuffers
{
    readonly LayerNorm norm1;
    readonly WindowAttention attn;
    readonly DropPath drop_path;
    readonly LayerNorm norm2;
    readonly SwinMlp mlp;
    readonly Dictionary<(int, int), Tensor?> _masks = [];

    public SwinTransformerBlock(long dim, int numHeads, int windowSize, bool shifted, double mlpRatio, bool qkvBias, double? qkScale,
        double drop, double attnDrop, double dropPath) : base(nameof(SwinTransformerBlock))
    {
        WindowSize = windowSize;
        Shifted = shifted;
        norm1 = nn.LayerNorm(dim, eps: 1e-5);
        attn = new WindowAttention(dim, windowSize, numHeads, qkvBias, qkScale, attnDrop, drop);
        drop_path = new DropPath(dropPath);
        norm2 = nn.LayerNorm(dim, eps: 1e-5);
        mlp = new SwinMlp(dim, (long)(dim * mlpRatio), drop);
        RegisterComponents();
    }

    public int WindowSize { get; }

    /// <summary>Whether the block shifts its windows (every second block of a stage), where the map is larger than one window.</summary>
    public bool Shifted { get; }

    public double DropPathProbability => drop_path.Probability;

    public IReadOnlyList<string> DerivedBufferNames => ["attn_mask"];

    public SwinWindows WindowsFor(int height, int width) => SwinWindows.For(height, width, WindowSize, Shifted);

    /// <summary>The shifted-window mask for an H x W map, made on first use and kept (outside any dispose scope).</summary>
    Tensor? MaskFor(SwinWindows windows)
    {
        if (!_masks.TryGetValue((windows.Height, windows.Width), out var mask))
        {
            mask = windows.AttentionMask()?.DetachFromDisposeScope();
            _masks[(windows.Height, windows.Width)] = mask;
        }
        return mask;
    }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var windows = WindowsFor((int)x.shape[1], (int)x.shape[2]);
        var mask = MaskFor(windows)?.to(x.dtype, x.device);
        var y = windows.Reverse(attn.Forward(windows.Partition(norm1.call(x)), mask));
        x = x + drop_path.call(y);
        return x + drop_path.call(mlp.call(norm2.call(x)));
    }

    public string ToOnnx(OnnxGraph graph, string input, int height, int width)
    {
        long c = norm1.weight!.shape[0];
        var windows = WindowsFor(height, width);
        var normed = graph.Child("norm1", () => graph.LayerNorm(input, norm1));
        var attended = graph.Child("attn", () => attn.ToOnnx(graph, windows.Partition(graph, normed, c), MaskFor(windows)));
        var x = graph.Add(input, windows.Reverse(graph, attended, c));
        return graph.Add(x, graph.Module(mlp, "mlp", graph.Child("norm2", () => graph.LayerNorm(x, norm2))));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            foreach (var mask in _masks.Values) mask?.Dispose();
        _masks.Clear();
        base.Dispose(disposing);
    }
}
