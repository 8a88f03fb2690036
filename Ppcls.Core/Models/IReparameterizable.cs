namespace Ppcls.Core.Models;

/// <summary>
/// A block with an inference form: folding BatchNorm into the preceding conv, fusing parallel
/// branches (PaddleClas's `re_parameterize`). <see cref="Reparameterize"/> uses the eval-mode
/// statistics, changes the block's structure for good (the folded modules leave the module tree
/// and the state dict) and keeps eval-mode outputs equal up to rounding. Calling it twice is a
/// no-op. Training a reparameterized block is not supported.
/// </summary>
public interface IReparameterizable
{
    /// <summary>True once <see cref="Reparameterize"/> has run.</summary>
    bool IsReparameterized { get; }

    /// <summary>Folds this block's own BatchNorm / branches into its inference form.</summary>
    void Reparameterize();
}
