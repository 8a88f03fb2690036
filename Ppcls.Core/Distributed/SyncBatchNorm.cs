using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>
/// PaddleClas's <c>Arch.use_sync_bn</c> (Paddle's SyncBatchNorm): in training, BatchNorm normalises by
/// the mean and variance of the batches of all ranks together, as one process would on their
/// concatenation. Each rank reduces its per-channel count, sum and sum of squares (taken from its
/// own mean and variance, in float64) in one all-reduce; the all-reduce is differentiable
/// (<see cref="CrossRankSum"/>), so the input gradient equals the concatenated batch's too. The
/// running statistics follow the global mean and the global unbiased variance, so they stay the
/// same on every rank. Evaluation uses the running statistics, as plain BatchNorm does.
/// </summary>
public static class SyncBatchNorm
{
    /// <summary>Makes every <see cref="ICrossRankBatchNorm"/> of <paramref name="model"/> reduce over <paramref name="world"/>; returns how many.</summary>
    public static int Apply(nn.Module model, ICommunicator world)
    {
        int count = 0;
        foreach (var layer in model.modules().OfType<ICrossRankBatchNorm>())
        {
            layer.SyncStatisticsOver(world);
            count++;
        }
        return count;
    }

    /// <summary>
    /// Training-mode batch norm of <paramref name="x"/> ([N, C, ...]) with the statistics of all ranks; updates
    /// the running statistics in place with <paramref name="momentum"/> (torch's: the weight of the new value).
    /// </summary>
    public static Tensor Normalize(Tensor x, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVariance,
        double momentum, double epsilon, ICommunicator world)
    {
        long channels = x.shape[1];
        long[] reduced = [0, .. Enumerable.Range(2, (int)x.dim() - 2).Select(d => (long)d)];
        double localCount = x.numel() / channels;
        var (localVariance, localMean) = x.var_mean(reduced, unbiased: false);
        var mean64 = localMean.to_type(ScalarType.Float64);
        var local = cat([mean64 * localCount, (localVariance.to_type(ScalarType.Float64) + mean64 * mean64) * localCount,
            tensor(new[] { localCount }, ScalarType.Float64, x.device)]);
        var sums = CrossRankSum.Of(local, world);
        double count = sums[2 * channels].item<double>();
        var mean = sums.narrow(0, 0, channels) / count;
        var variance = (sums.narrow(0, channels, channels) / count - mean * mean).clamp_min(0);
        using (no_grad())
        {
            runningMean.mul_(1 - momentum).add_(mean.to_type(runningMean.dtype), alpha: momentum);
            runningVariance.mul_(1 - momentum).add_((variance * (count / Math.Max(count - 1, 1))).to_type(runningVariance.dtype), alpha: momentum);
        }
        var scale = weight * (variance.to_type(x.dtype) + epsilon).rsqrt();
        var shift = bias - mean.to_type(x.dtype) * scale;
        long[] perChannel = [1, channels, .. Enumerable.Repeat(1L, (int)x.dim() - 2)];
        return x * scale.view(perChannel) + shift.view(perChannel);
    }
}
