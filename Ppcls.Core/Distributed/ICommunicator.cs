using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>
/// The collective operations data-parallel training needs, over the ranks of one job.
/// <see cref="SingleProcess"/> is the one-rank job (every call a no-op); <see cref="MpiCommunicator"/>
/// runs on Open MPI. A GPU back end (NCCL, or CUDA-aware MPI) implements the same calls on
/// device tensors and is returned by <see cref="World.Initialize"/>; nothing else changes.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's rank, 0 ... <see cref="Size"/> - 1; rank 0 writes logs, checkpoints and plots.</summary>
    int Rank { get; }

    /// <summary>The number of ranks in the job.</summary>
    int Size { get; }

    /// <summary>The rank among the ranks on this machine (picks the GPU on a multi-GPU machine).</summary>
    int LocalRank { get; }

    /// <summary>The number of ranks on this machine (they share its cores).</summary>
    int LocalSize { get; }

    /// <summary>"single" or "mpi".</summary>
    string Backend { get; }

    /// <summary>
    /// How long a collective waits for the slowest rank (`Global.dist_timeout_s`); after it the job ends
    /// with a line naming the ranks that did not arrive. A job of one rank never waits.
    /// </summary>
    TimeSpan Timeout { get; set; }

    /// <summary>Replaces a contiguous float32 tensor with its element-wise sum over all ranks.</summary>
    void AllReduceSum(Tensor buffer);

    /// <summary>
    /// Starts <see cref="AllReduceSum(Tensor)"/> and returns at once, so that the sum runs while this thread
    /// computes on; the buffer is the sum when the returned collective is complete. Every rank starts its
    /// collectives in the same order. A communicator without nonblocking calls sums before it returns.
    /// </summary>
    IPendingCollective StartAllReduceSum(Tensor buffer)
    {
        AllReduceSum(buffer);
        return CompletedCollective.Instance;
    }

    /// <summary>Replaces <paramref name="values"/> with their element-wise sum over all ranks.</summary>
    void AllReduceSum(double[] values);

    /// <summary>Copies rank <paramref name="root"/>'s contiguous tensor (any dtype) into the same tensor on every rank.</summary>
    void Broadcast(Tensor buffer, int root);

    /// <summary>Copies rank <paramref name="root"/>'s values into <paramref name="values"/> on every rank.</summary>
    void Broadcast(long[] values, int root);

    /// <summary>
    /// Returns on every rank once rank 0 has called it: rank 0 calls it when it is done with a command it ran alone, the
    /// other ranks at once. No deadline (rank 0's work may take any time; if rank 0 dies, mpirun ends the job), and the
    /// waiting ranks sleep between checks, leaving the machine's cores to rank 0.
    /// </summary>
    void WaitForRankZero();

    /// <summary>Ends every rank of the job with <paramref name="exitCode"/> (after an error on one rank, so the others do not wait forever).</summary>
    void Abort(int exitCode);
}
