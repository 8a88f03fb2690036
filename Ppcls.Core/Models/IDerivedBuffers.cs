namespace Ppcls.Core.Models;

/// <summary>
/// A module holding buffers it derives from its own configuration (Swin's relative_position_index
/// and attn_mask): they are not in its state dict, and a weights file's copy of them (PaddleClas's
/// .pdparams keep the index) is neither loaded nor reported as unexpected.
/// </summary>
public interface IDerivedBuffers
{
    /// <summary>The buffers' names relative to the module.</summary>
    IReadOnlyList<string> DerivedBufferNames { get; }
}
