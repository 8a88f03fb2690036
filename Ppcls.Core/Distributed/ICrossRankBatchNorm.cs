namespace Ppcls.Core.Distributed;

/// <summary>
/// A BatchNorm layer that can take its training batch statistics over every rank's batch
/// (<see cref="SyncBatchNorm"/>): <c>Arch.use_sync_bn</c> turns it on for each such layer of the model.
/// </summary>
public interface ICrossRankBatchNorm
{
    /// <summary>From now on, training batches are normalised by the statistics of all ranks of <paramref name="world"/>.</summary>
    void SyncStatisticsOver(ICommunicator world);
}
