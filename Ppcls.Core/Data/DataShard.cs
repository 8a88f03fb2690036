namespace Ppcls.Core.Data;

/// <summary>
/// Which part of each epoch a rank loads: rank <see cref="Rank"/> of <see cref="Count"/>.
/// With <see cref="Pad"/> (training, PaddleClas's DistributedBatchSampler) the index list is padded
/// from its start so every rank gets the same number of samples and batches; without it (eval)
/// every sample is loaded exactly once, by one rank.
/// </summary>
public sealed record DataShard(int Rank, int Count, bool Pad)
{
    /// <summary>One process loading everything.</summary>
    public static readonly DataShard Whole = new(0, 1, true);

    public bool IsWhole => Count == 1;
}
