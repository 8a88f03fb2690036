using Ppcls.Core.Config.Sections;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Loading;

/// <summary>
/// The sampler for one rank (DistributedBatchSampler and BatchSampler agree there): the
/// indices 0..n-1, shuffled per epoch from (seed, epoch) when `shuffle` is on, cut into
/// `batch_size` pieces; `drop_last` drops a short final batch.
/// </summary>
public static class BatchPlan
{
    public static int BatchCount(int samples, SamplerConfig sampler) =>
        sampler.DropLast ? samples / sampler.BatchSize : (samples + sampler.BatchSize - 1) / sampler.BatchSize;

    public static int[][] Plan(int samples, SamplerConfig sampler, long seed, int epoch)
    {
        var order = sampler.Shuffle
            ? SampleRandom.For(seed, SampleRandom.ShuffleStream, epoch, 0).Permutation(samples)
            : Enumerable.Range(0, samples).ToArray();
        int count = BatchCount(samples, sampler);
        var batches = new int[count][];
        for (int b = 0; b < count; b++)
        {
            int start = b * sampler.BatchSize;
            batches[b] = order[start..Math.Min(samples, start + sampler.BatchSize)];
        }
        return batches;
    }
}
