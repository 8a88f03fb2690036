using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// The window geometry of one Swin block on an H x W token map: the map is padded right and bottom
/// with zeros to whole windows of <c>Size</c> x <c>Size</c> (as PaddleClas pads), shifted by
/// <c>Shift</c> in a shifted block, except where the map fits in one window (Swin's rule, as in
/// the published weights: the 7x7 last stage at 224 attends unshifted). Each step is written
/// eagerly and in ONNX.
/// </summary>
public sealed record SwinWindows(int Height, int Width, int Size, int Shift)
{
    public static SwinWindows For(int height, int width, int windowSize, bool shifted) =>
        new(height, width, windowSize, shifted && Math.Min(height, width) > windowSize ? windowSize / 2 : 0);

    public int PaddedHeight => (Height + Size - 1) / Size * Size;

    public int PaddedWidth => (Width + Size - 1) / Size * Size;

    bool Padded => PaddedHeight != Height || PaddedWidth != Width;

    public int Tokens => Size * Size;

    public int Count => PaddedHeight / Size * (PaddedWidth / Size);

    /// <summary>[B, H, W, C] (padded, rolled by -Shift) to [B * windows, Size * Size, C].</summary>
    public Tensor Partition(Tensor x)
    {
        long c = x.shape[3];
        if (Padded) x = nn.functional.pad(x, [0, 0, 0, PaddedWidth - Width, 0, PaddedHeight - Height]);
        if (Shift > 0) x = x.roll([-Shift, -Shift], [1, 2]);
        return x.view(-1, PaddedHeight / Size, Size, PaddedWidth / Size, Size, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, Tokens, c);
    }

    /// <summary>[B * windows, Size * Size, C] back to [B, H, W, C] (rolled back, padding cut off).</summary>
    public Tensor Reverse(Tensor windows)
    {
        long c = windows.shape[2];
        var x = windows.view(-1, PaddedHeight / Size, PaddedWidth / Size, Size, Size, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, PaddedHeight, PaddedWidth, c);
        if (Shift > 0) x = x.roll([Shift, Shift], [1, 2]);
        return Padded ? x[.., ..Height, ..Width, ..] : x;
    }

    public string Partition(OnnxGraph graph, string x, long channels)
    {
        if (Padded) x = graph.Node("Pad", [x, graph.Int64Initializer("pads", [0, 0, 0, 0, 0, PaddedHeight - Height, PaddedWidth - Width, 0])]);
        if (Shift > 0) x = Roll(graph, x, -Shift);
        var split = graph.Reshape(x, [-1, PaddedHeight / Size, Size, PaddedWidth / Size, Size, channels]);
        return graph.Reshape(graph.Transpose(split, [0, 1, 3, 2, 4, 5]), [-1, Tokens, channels]);
    }

    public string Reverse(OnnxGraph graph, string windows, long channels)
    {
        var split = graph.Reshape(windows, [-1, PaddedHeight / Size, PaddedWidth / Size, Size, Size, channels]);
        var x = graph.Reshape(graph.Transpose(split, [0, 1, 3, 2, 4, 5]), [-1, PaddedHeight, PaddedWidth, channels]);
        if (Shift > 0) x = Roll(graph, x, Shift);
        return Padded
            ? graph.Node("Slice", [x, graph.Int64Initializer("starts", [0, 0]), graph.Int64Initializer("ends", [Height, Width]), graph.Int64Initializer("axes", [1, 2])])
            : x;
    }

    /// <summary>torch.roll of a [B, H, W, C] map by <paramref name="by"/> along H and W in ONNX: a Gather of the rolled order on each axis.</summary>
    string Roll(OnnxGraph graph, string x, int by)
    {
        var rows = graph.Gather(x, RolledOrder(PaddedHeight, by), axis: 1);
        return graph.Gather(rows, RolledOrder(PaddedWidth, by), axis: 2);
    }

    static long[] RolledOrder(int length, int by) =>
        Enumerable.Range(0, length).Select(i => (long)(((i - by) % length + length) % length)).ToArray();

    /// <summary>
    /// The shifted-window mask [windows, Size * Size, Size * Size] of the padded map: 0 between
    /// tokens of the same region, -100 between tokens the roll brought together from different
    /// regions (Swin's constant). Null without a shift.
    /// </summary>
    public Tensor? AttentionMask()
    {
        if (Shift == 0) return null;
        int Region(int i, int length) => i < length - Size ? 0 : i < length - Shift ? 1 : 2;
        var labels = new float[PaddedHeight * PaddedWidth];
        for (int h = 0; h < PaddedHeight; h++)
            for (int w = 0; w < PaddedWidth; w++)
                labels[h * PaddedWidth + w] = Region(h, PaddedHeight) * 3 + Region(w, PaddedWidth);
        using var scope = NewDisposeScope();
        var windows = tensor(labels, [1, PaddedHeight / Size, Size, PaddedWidth / Size, Size]).permute(0, 1, 3, 2, 4).reshape(-1, Tokens);
        var differs = windows.unsqueeze(1) - windows.unsqueeze(2);
        return where(differs.ne(0), -100f, 0f).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
