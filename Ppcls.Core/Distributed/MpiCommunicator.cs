using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>
/// MPI_COMM_WORLD of an Open MPI job (`mpirun -np N [-H host1,host2] ppcls ...`): rank and size
/// from MPI, the local rank and size from Open MPI's environment. Tensors are CPU tensors; buffers
/// larger than 2^31 - 1 elements are sent in pieces. Disposing finalizes MPI.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    const int MaxCount = int.MaxValue;
    bool _disposed;

    MpiCommunicator(int rank, int size, int localRank, int localSize)
    {
        Rank = rank;
        Size = size;
        LocalRank = localRank;
        LocalSize = localSize;
    }

    public int Rank { get; }
    public int Size { get; }
    public int LocalRank { get; }
    public int LocalSize { get; }
    public string Backend => "mpi";

    /// <summary>Loads Open MPI and initialises it (thread level SERIALIZED: calls may come from any one thread at a time).</summary>
    public static MpiCommunicator Initialize(int localRank, int localSize)
    {
        MpiNative.Load();
        Check(MpiNative.MPI_Initialized(out int initialized), "MPI_Initialized");
        if (initialized == 0) Check(MpiNative.MPI_Init_thread(IntPtr.Zero, IntPtr.Zero, MpiNative.ThreadSerialized, out _), "MPI_Init_thread");
        Check(MpiNative.MPI_Comm_rank(MpiNative.CommWorld, out int rank), "MPI_Comm_rank");
        Check(MpiNative.MPI_Comm_size(MpiNative.CommWorld, out int size), "MPI_Comm_size");
        return new MpiCommunicator(rank, size, localRank, localSize);
    }

    public void AllReduceSum(Tensor buffer)
    {
        RequireContiguousCpu(buffer);
        if (buffer.dtype != ScalarType.Float32) throw new ArgumentException($"expected float32, got {buffer.dtype}", nameof(buffer));
        var data = (float*)DataPointer(buffer);
        for (long start = 0, n = buffer.numel(); start < n; start += MaxCount)
        {
            int count = (int)Math.Min(MaxCount, n - start);
            Check(MpiNative.MPI_Allreduce(MpiNative.InPlace, data + start, count, MpiNative.Float, MpiNative.Sum, MpiNative.CommWorld), "MPI_Allreduce");
        }
    }

    public void AllReduceSum(double[] values)
    {
        fixed (double* data = values)
            Check(MpiNative.MPI_Allreduce(MpiNative.InPlace, data, values.Length, MpiNative.Double, MpiNative.Sum, MpiNative.CommWorld), "MPI_Allreduce");
    }

    public void Broadcast(Tensor buffer, int root)
    {
        RequireContiguousCpu(buffer);
        var data = (byte*)DataPointer(buffer);
        for (long start = 0, n = buffer.numel() * buffer.element_size(); start < n; start += MaxCount)
            Check(MpiNative.MPI_Bcast(data + start, (int)Math.Min(MaxCount, n - start), MpiNative.Byte, root, MpiNative.CommWorld), "MPI_Bcast");
    }

    public void Broadcast(long[] values, int root)
    {
        fixed (long* data = values)
            Check(MpiNative.MPI_Bcast(data, values.Length, MpiNative.LongLong, root, MpiNative.CommWorld), "MPI_Bcast");
    }

    public void Abort(int exitCode) => MpiNative.MPI_Abort(MpiNative.CommWorld, exitCode);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (MpiNative.MPI_Finalized(out int finalized) == 0 && finalized == 0) MpiNative.MPI_Finalize();
    }

    static void RequireContiguousCpu(Tensor buffer)
    {
        if (!buffer.is_contiguous() || buffer.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException("MPI buffers must be contiguous CPU tensors", nameof(buffer));
    }

    /// <summary>The first element of a contiguous CPU tensor (its storage offset included).</summary>
    static void* DataPointer(Tensor buffer) => Unsafe.AsPointer(ref MemoryMarshal.GetReference(buffer.bytes));

    static void Check(int code, string call)
    {
        // MPI's default error handler aborts the job first; this covers handlers that return.
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error code {code}");
    }
}
