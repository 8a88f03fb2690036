using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>
/// A layer that `paddle.flops` counts but Core cannot recognise by type (it lives in a model
/// library), such as PaddleClas's BatchNorm2D. <see cref="ModelProfile"/> calls it from a
/// forward hook with the layer's input and output.
/// </summary>
public interface IPaddleFlopsCounted
{
    /// <summary>The FLOPs `paddle.flops` charges this layer for one forward (batch included).</summary>
    long PaddleFlops(Tensor input, Tensor output);
}
