using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>
/// All-gather built on the sum all-reduce: every rank writes its rows into its own slice of a
/// zeroed buffer covering all ranks, and the sum leaves every rank with the rows of all, in rank
/// order (adding zeros is exact). Metrics over a whole eval set (retrieval) use it.
/// </summary>
public static class RankGather
{
    /// <summary>The rows of every rank's [n_r, ...] float32 tensor, stacked in rank order; the tensor itself in one process.</summary>
    static Tensor Rows(ICommunicator world, Tensor local)
    {
        if (world.Size == 1) return local;
        var (offset, total) = Offsets(world, local.shape[0]);
        long[] shape = [.. local.shape];
        shape[0] = total;
        var all = zeros(shape, ScalarType.Float32);
        if (local.shape[0] > 0) all.narrow(0, offset, local.shape[0]).copy_(local.to_type(ScalarType.Float32).cpu());
        world.AllReduceSum(all);
        return all;
    }

    /// <summary>
    /// Every rank's batches gathered batch by batch: batch 0 of each rank in rank order, then batch 1,
    /// ... As an eval shard holds the rank's piece of each global batch, the rows come back in the data
    /// set's order (as PaddleClas's per-batch all_gather returns them), the same as in one process.
    /// </summary>
    public static Tensor Batches(ICommunicator world, IReadOnlyList<Tensor> batches)
    {
        if (world.Size == 1) return cat(batches.ToList(), 0);
        var counts = new double[world.Size];
        counts[world.Rank] = batches.Count;
        world.AllReduceSum(counts);
        long[] empty = [.. batches[0].shape];
        empty[0] = 0;
        var pieces = new List<Tensor>();
        for (int b = 0; b < (int)counts.Max(); b++)
            pieces.Add(Rows(world, b < batches.Count ? batches[b] : zeros(empty, ScalarType.Float32)));
        return cat(pieces, 0);
    }

    /// <summary>Every rank's values, concatenated in rank order.</summary>
    public static double[] Values(ICommunicator world, IReadOnlyList<double> local)
    {
        if (world.Size == 1) return [.. local];
        var (offset, total) = Offsets(world, local.Count);
        var all = new double[total];
        for (int i = 0; i < local.Count; i++) all[offset + i] = local[i];
        world.AllReduceSum(all);
        return all;
    }

    /// <summary>Where this rank's rows start in the gathered buffer, and the rows of all ranks.</summary>
    static (long Offset, long Total) Offsets(ICommunicator world, long count)
    {
        var counts = new double[world.Size];
        counts[world.Rank] = count;
        world.AllReduceSum(counts);
        return ((long)counts.Take(world.Rank).Sum(), (long)counts.Sum());
    }
}
