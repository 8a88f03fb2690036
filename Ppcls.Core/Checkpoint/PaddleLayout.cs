using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint;

/// <summary>
/// Paddle's tensor layout versus Ppcls's: the names are the same (BN statistics are `_mean` /
/// `_variance`, no `num_batches_tracked`), but Paddle's nn.Linear stores its weight as [in, out]
/// where TorchSharp's is [out, in]. Which tensors are Linear weights comes from the model's own
/// Linear modules (<see cref="LinearWeights"/>); only a conversion without a model falls back to
/// <see cref="IsLinearByShape"/>.
/// </summary>
public static class PaddleLayout
{
    /// <summary>Tells whether the tensor of that name is a Linear weight (stored transposed by Paddle).</summary>
    public delegate bool LinearWeightTest(string name, Tensor tensor);

    /// <summary>The state-dict names of <paramref name="model"/>'s Linear weights.</summary>
    public static IReadOnlySet<string> LinearWeights(nn.Module model) =>
        model.named_modules().Where(m => m.module is Linear).Select(m => m.name.Length == 0 ? "weight" : $"{m.name}.weight").ToHashSet(StringComparer.Ordinal);

    /// <summary>The test for <paramref name="model"/>'s Linear weights.</summary>
    public static LinearWeightTest LinearWeightsOf(nn.Module model)
    {
        var names = LinearWeights(model);
        return (name, _) => names.Contains(name);
    }

    /// <summary>
    /// Without a model (`ppcls weights convert` without `--arch`): every 2-D `.weight` tensor. In every
    /// model of the zoo those are exactly the Linear weights (a registry-wide test checks it).
    /// </summary>
    public static bool IsLinearByShape(string name, Tensor tensor) => tensor.dim() == 2 && name.EndsWith(".weight", StringComparison.Ordinal);

    /// <summary>Weights read from a `.pdparams` file, in Ppcls's layout; each replaced Paddle-layout tensor is disposed.</summary>
    public static Dictionary<string, Tensor> FromPaddle(Dictionary<string, Tensor> paddle, LinearWeightTest isLinear)
    {
        var result = new Dictionary<string, Tensor>(paddle.Count, StringComparer.Ordinal);
        foreach (var (name, tensor) in paddle)
        {
            if (!isLinear(name, tensor)) { result[name] = tensor; continue; }
            result[name] = tensor.t().contiguous();
            tensor.Dispose();
        }
        return result;
    }

    /// <summary>Ppcls weights in Paddle's layout, for writing `.pdparams`; the transposed tensors are new (the caller disposes them).</summary>
    public static Dictionary<string, Tensor> ToPaddle(IReadOnlyDictionary<string, Tensor> weights, LinearWeightTest isLinear) =>
        weights.ToDictionary(kv => kv.Key, kv => isLinear(kv.Key, kv.Value) ? kv.Value.t().contiguous() : kv.Value, StringComparer.Ordinal);
}
