using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tensors;

/// <summary>
/// NHWC ("channels last") strides for 4-D tensors, the layout oneDNN's CPU convolutions run
/// fastest in. TorchSharp has no `memory_format` argument, so a tensor gets NHWC strides by
/// permuting to NHWC, making that contiguous and permuting back: the shape stays N, C, H, W
/// and every op reads it as before; libtorch's kernels see the strides and keep them.
/// </summary>
public static class ChannelsLast
{
    /// <summary>True when a 4-D tensor's strides are NHWC (a tensor with one channel or one pixel is both).</summary>
    public static bool Is(Tensor t)
    {
        if (t.dim() != 4) return false;
        var (size, stride) = (t.shape, t.stride());
        long expected = 1;
        foreach (int d in (int[])[1, 3, 2, 0])
        {
            if (size[d] != 1 && stride[d] != expected) return false;
            expected *= size[d];
        }
        return true;
    }

    /// <summary>True when the strides are NHWC and not NCHW as well (a 1x1 kernel has both).</summary>
    public static bool IsStrictly(Tensor t) => Is(t) && !t.is_contiguous();

    /// <summary>The tensor with NHWC strides: itself when it has them or is not 4-D, else a copy.</summary>
    public static Tensor Of(Tensor t) =>
        t.dim() != 4 || Is(t) ? t : t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>
    /// Gives every 4-D parameter and buffer of <paramref name="module"/> NHWC strides in place:
    /// the parameter objects stay the same (optimizers, EMA and weight requests keep pointing at them),
    /// only their storage changes. Returns how many tensors changed.
    /// </summary>
    public static int Apply(nn.Module module)
    {
        int changed = 0;
        using var _ = no_grad();
        foreach (var (_, p) in module.named_parameters())
            if (p.dim() == 4 && !Is(p)) { p.set_(Of(p)); changed++; }
        foreach (var (_, b) in module.named_buffers())
            if (b.dim() == 4 && !Is(b)) { b.set_(Of(b)); changed++; }
        return changed;
    }
}
