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
    public static Tensor Rows(ICommunicator world, Tensor local)
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
