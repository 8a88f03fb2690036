using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Loading;

/// <summary>
/// The batches of one rank, as PaddleClas's DistributedBatchSampler forms them: the indices
/// 0..n-1, padded from their start to a multiple of the rank count, shuffled per epoch from
/// (seed, epoch) when `shuffle` is on (the same order on every rank); each global batch of
/// `batch_size` x ranks is cut into one `batch_size` piece per rank, and the short tail is split
/// evenly. The rank's indices are then cut into `batch_size` pieces; `drop_last` drops a short
/// final one. One rank (and BatchSampler, which PaddleClas never shards) gets every index.
/// Without padding (<see cref="DataShard.Pad"/> off, eval) every index goes to exactly one rank.
/// </summary>
public static class BatchPlan
{
    public static int BatchCount(int samples, SamplerConfig sampler, DataShard? shard = null)
    {
        int local = LocalCount(samples, sampler.BatchSize, shard ?? DataShard.Whole);
        return sampler.DropLast ? local / sampler.BatchSize : (local + sampler.BatchSize - 1) / sampler.BatchSize;
    }

    public static int[][] Plan(int samples, SamplerConfig sampler, long seed, int epoch, DataShard? shard = null)
    {
        var s = shard ?? DataShard.Whole;
        int total = s.Pad ? (samples + s.Count - 1) / s.Count * s.Count : samples;
        var padded = Enumerable.Range(0, total).Select(i => i % Math.Max(1, samples)).ToArray();
        var order = sampler.Shuffle
            ? [.. SampleRandom.For(seed, SampleRandom.ShuffleStream, epoch, 0).Permutation(total).Select(i => padded[i])]
            : padded;
        var local = Local(order, sampler.BatchSize, s);
        int count = BatchCount(samples, sampler, s);
        var batches = new int[count][];
        for (int b = 0; b < count; b++)
        {
            int start = b * sampler.BatchSize;
            batches[b] = local[start..Math.Min(local.Length, start + sampler.BatchSize)];
        }
        return batches;
    }

    /// <summary>The rank's indices from the epoch's order: its piece of every full global batch, then its share of the tail.</summary>
    static int[] Local(int[] order, int batchSize, DataShard s)
    {
        if (s.IsWhole) return order;
        int global = batchSize * s.Count, full = order.Length / global * global;
        var local = new List<int>(LocalCount(order.Length, batchSize, s with { Pad = false }));
        for (int start = 0; start < full; start += global)
            local.AddRange(order.AsSpan(start + s.Rank * batchSize, batchSize));
        var (tailStart, tailEnd) = TailShare(order.Length - full, s);
        local.AddRange(order.AsSpan(full + tailStart, tailEnd - tailStart));
        return [.. local];
    }

    static int LocalCount(int samples, int batchSize, DataShard s)
    {
        if (s.IsWhole) return samples;
        int total = s.Pad ? (samples + s.Count - 1) / s.Count * s.Count : samples;
        int global = batchSize * s.Count, full = total / global * global;
        var (start, end) = TailShare(total - full, s);
        return full / s.Count + end - start;
    }

    /// <summary>The rank's slice of a tail of <paramref name="length"/> indices: even shares, the first ranks one more where it does not divide.</summary>
    static (int Start, int End) TailShare(int length, DataShard s)
    {
        int share = length / s.Count, extra = length % s.Count;
        int start = s.Rank * share + Math.Min(s.Rank, extra);
        return (start, start + share + (s.Rank < extra ? 1 : 0));
    }
}
