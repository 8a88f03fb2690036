using TorchSharp.Modules;

namespace Ppcls.Core.Models;

/// <summary>
/// A layer that applies a Conv2d's weights without calling the Conv2d module (for example as
/// im2col + matmul) and whose output has that conv's shape. <see cref="ModelProfile"/> counts
/// it as the conv, from a hook on the layer itself.
/// </summary>
public interface IIndirectConvolution
{
    /// <summary>The conv whose weights the layer applies itself, or null where it calls the conv normally.</summary>
    Conv2d? IndirectConvolution { get; }
}
