using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// The fixed geometry of one Swin stage at its built resolution: the window partition and its
/// reverse, the cyclic shift, and the shifted-window attention mask, each eagerly and in ONNX.
/// Windows are <c>Size</c> x <c>Size</c> tokens; a stage whose map is no larger than the window
/// uses one window of the whole map and no shift (Swin's rule, as in the published weights).
/// </summary>
public sealed record SwinWindows(int Height, int Width, int Size, int Shift)
{
    /// <summary>Swin's rule: the window and shift of a stage of <paramref name="height"/> x <paramref name="width"/> tokens.</summary>
    public static SwinWindows For(int height, int width, int windowSize, bool shifted)
    {
        int smaller = Math.Min(height, width);
        if (smaller <= windowSize) return new SwinWindows(height, width, smaller, 0);
        if (height % windowSize != 0 || width % windowSize != 0)
            throw new ArgumentException($"a {height}x{width} token map does not split into {windowSize}x{windowSize} windows; choose img_size so that every stage divides by the window size");
        return new SwinWindows(height, width, windowSize, shifted ? windowSize / 2 : 0);
    }

    public int Tokens => Size * Size;

    public int Count => Height / Size * (Width / Size);

    /// <summary>[B, H, W, C] to [B * windows, Size * Size, C].</summary>
    public Tensor Partition(Tensor x)
    {
        long c = x.shape[3];
        return x.view(-1, Height / Size, Size, Width / Size, Size, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, Tokens, c);
    }

    /// <summary>[B * windows, Size * Size, C] back to [B, H, W, C].</summary>
    public Tensor Reverse(Tensor windows)
    {
        long c = windows.shape[2];
        return windows.view(-1, Height / Size, Width / Size, Size, Size, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, Height, Width, c);
    }

    public string Partition(OnnxGraph graph, string x, long channels)
    {
        var split = graph.Reshape(x, [-1, Height / Size, Size, Width / Size, Size, channels]);
        return graph.Reshape(graph.Transpose(split, [0, 1, 3, 2, 4, 5]), [-1, Tokens, channels]);
    }

    public string Reverse(OnnxGraph graph, string windows, long channels)
    {
        var split = graph.Reshape(windows, [-1, Height / Size, Width / Size, Size, Size, channels]);
        return graph.Reshape(graph.Transpose(split, [0, 1, 3, 2, 4, 5]), [-1, Height, Width, channels]);
    }

    /// <summary>Rolls a [B, H, W, C] map by <paramref name="by"/> along H and W (torch.roll).</summary>
    public static Tensor Roll(Tensor x, int by) => x.roll([by, by], [1, 2]);

    /// <summary>The same roll in ONNX: a Gather of the rolled index order on each axis.</summary>
    public string Roll(OnnxGraph graph, string x, int by)
    {
        var rows = graph.Gather(x, RolledOrder(Height, by), axis: 1);
        return graph.Gather(rows, RolledOrder(Width, by), axis: 2);
    }

    static long[] RolledOrder(int length, int by) =>
        Enumerable.Range(0, length).Select(i => (long)(((i - by) % length + length) % length)).ToArray();

    /// <summary>
    /// The shifted-window mask [windows, Size * Size, Size * Size]: 0 between tokens of the same
    /// region of the shifted map, -100 between tokens that the roll brought together from
    /// different regions (Swin's constant). Null without a shift.
    /// </summary>
    public Tensor? AttentionMask()
    {
        if (Shift == 0) return null;
        int Region(int i, int length) => i < length - Size ? 0 : i < length - Shift ? 1 : 2;
        var labels = new float[Height * Width];
        for (int h = 0; h < Height; h++)
            for (int w = 0; w < Width; w++)
                labels[h * Width + w] = Region(h, Height) * 3 + Region(w, Width);
        using var scope = NewDisposeScope();
        var windows = Partition(tensor(labels, [1, Height, Width, 1])).squeeze(-1);
        var differs = windows.unsqueeze(1) - windows.unsqueeze(2);
        return where(differs.ne(0), -100f, 0f).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
