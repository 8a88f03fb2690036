using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint;

/// <summary>
/// Paddle's tensor layout versus Ppcls's: the names are the same (BN statistics are `_mean` /
/// `_variance`, no `num_batches_tracked`), but Paddle's nn.Linear stores its weight as [in, out]
/// where TorchSharp's is [out, in]. In every supported model the only 2-D `.weight` tensors are
/// Linear weights (a registry-wide test checks it), so those are the ones transposed.
/// </summary>
public static class PaddleLayout
{
    public static bool IsLinearWeight(string name, Tensor tensor) => tensor.dim() == 2 && name.EndsWith(".weight", StringComparison.Ordinal);

    /// <summary>Weights read from a `.pdparams` file, in Ppcls's layout (transposed Linear weights are new tensors).</summary>
    public static Dictionary<string, Tensor> FromPaddle(Dictionary<string, Tensor> paddle) => Transposed(paddle);

    /// <summary>Ppcls weights in Paddle's layout, for writing `.pdparams`.</summary>
    public static Dictionary<string, Tensor> ToPaddle(IReadOnlyDictionary<string, Tensor> weights) => Transposed(weights);

    static Dictionary<string, Tensor> Transposed(IReadOnlyDictionary<string, Tensor> weights) =>
        weights.ToDictionary(kv => kv.Key, kv => IsLinearWeight(kv.Key, kv.Value) ? kv.Value.t().contiguous() : kv.Value, StringComparer.Ordinal);
}
