using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>
/// MPI_COMM_WORLD of an Open MPI job (`mpirun -np N [-H host1,host2] ppcls ...`): rank and size
/// from MPI, the local rank and size from Open MPI's environment. Tensors are CPU tensors; buffers
/// larger than 2^31 - 1 elements are sent in pieces. Every collective is nonblocking and waited for
/// with a deadline (<see cref="CollectiveDeadline"/>), except the wait for rank 0 working alone
/// (<see cref="WaitForRankZero"/>). Disposing finalizes MPI.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    const int MaxCount = int.MaxValue;
    readonly CollectiveDeadline _deadline;
    void* _sendBuffer;
    long _sendBytes;
    bool _disposed;

    MpiCommunicator(int rank, int size, int localRank, int localSize)
    {
        Rank = rank;
        Size = size;
        LocalRank = localRank;
        LocalSize = localSize;
        _deadline = new CollectiveDeadline(rank, size);
    }

    public int Rank { get; }
    public int Size { get; }
    public int LocalRank { get; }
    public int LocalSize { get; }
    public string Backend => "mpi";

    public TimeSpan Timeout
    {
        get => _deadline.Timeout;
        set => _deadline.Timeout = value;
    }

    /// <summary>Loads Open MPI and initialises it (thread level SERIALIZED: calls may come from any one thread at a time).</summary>
    public static MpiCommunicator Initialize(int localRank, int localSize)
    {
        MpiNative.Load();
        Check(MpiNative.MPI_Initialized(out int initialized), "MPI_Initialized");
        if (initialized == 0)
        {
            PreferRingAllReduce();
            Check(MpiNative.MPI_Init_thread(IntPtr.Zero, IntPtr.Zero, MpiNative.ThreadSerialized, out _), "MPI_Init_thread");
        }
        Check(MpiNative.MPI_Comm_rank(MpiNative.CommWorld, out int rank), "MPI_Comm_rank");
        Check(MpiNative.MPI_Comm_size(MpiNative.CommWorld, out int size), "MPI_Comm_size");
        return new MpiCommunicator(rank, size, localRank, localSize);
    }

    /// <summary>
    /// Open MPI's nonblocking all-reduce (coll/libnbc) sums with a binomial tree up and down on fewer than
    /// 4 ranks, and on in-place buffers: the whole buffer passes through rank 0 twice. Its ring moves
    /// 2 (N-1)/N of it per rank, as the blocking MPI_Allreduce does (PPHGNetV2_B0's 22.9 MiB of gradients
    /// on 2 local ranks, medians of 3 alternating runs of 20 steps: binomial 26-34 ms, ring 16-23 ms,
    /// blocking 17-26 ms), and takes no more steps for small buffers below 4 ranks. So below 4 ranks the ring is chosen here unless the user set
    /// OMPI_MCA_coll_libnbc_iallreduce_algorithm; from 4 ranks on, libnbc picks the ring itself for
    /// buffers of 64 KiB and more when they are not in place (<see cref="AllReduceSum(Tensor)"/>).
    /// MCA parameters are read from the process environment at MPI_Init, hence libc's setenv.
    /// </summary>
    static void PreferRingAllReduce()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable(World.SizeVariable), out int size) && size < 4)
            setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "ring", overwrite: 0);
    }

    [DllImport("libc.so.6")] static extern int setenv(string name, string value, int overwrite);

    /// <summary>libnbc sums buffers of this many bytes or more with its ring on 4 ranks or more, unless they are in place.</summary>
    const long RingBytes = 64 << 10;

    public void AllReduceSum(Tensor buffer)
    {
        RequireContiguousCpu(buffer);
        if (buffer.dtype != ScalarType.Float32) throw new ArgumentException($"expected float32, got {buffer.dtype}", nameof(buffer));
        var data = (float*)DataPointer(buffer);
        for (long start = 0, n = buffer.numel(); start < n; start += MaxCount)
        {
            int count = (int)Math.Min(MaxCount, n - start);
            IntPtr send = MpiNative.InPlace;
            if (Size >= 4 && count * (long)sizeof(float) >= RingBytes)
            {
                send = (IntPtr)SendBuffer(count * (long)sizeof(float));
                Buffer.MemoryCopy(data + start, (void*)send, count * (long)sizeof(float), count * (long)sizeof(float));
            }
            Check(MpiNative.MPI_Iallreduce(send, data + start, count, MpiNative.Float, MpiNative.Sum, MpiNative.CommWorld, out var request), "MPI_Iallreduce");
            _deadline.Wait(ref request, "MPI_Allreduce");
        }
    }

    /// <summary>A native buffer of at least <paramref name="bytes"/>, kept for the next call.</summary>
    void* SendBuffer(long bytes)
    {
        if (bytes > _sendBytes)
        {
            _sendBuffer = NativeMemory.Realloc(_sendBuffer, (nuint)bytes);
            _sendBytes = bytes;
        }
        return _sendBuffer;
    }

    public void AllReduceSum(double[] values)
    {
        fixed (double* data = values)
        {
            Check(MpiNative.MPI_Iallreduce(MpiNative.InPlace, data, values.Length, MpiNative.Double, MpiNative.Sum, MpiNative.CommWorld, out var request), "MPI_Iallreduce");
            _deadline.Wait(ref request, "MPI_Allreduce");
        }
    }

    public void Broadcast(Tensor buffer, int root)
    {
        RequireContiguousCpu(buffer);
        var data = (byte*)DataPointer(buffer);
        for (long start = 0, n = buffer.numel() * buffer.element_size(); start < n; start += MaxCount)
        {
            Check(MpiNative.MPI_Ibcast(data + start, (int)Math.Min(MaxCount, n - start), MpiNative.Byte, root, MpiNative.CommWorld, out var request), "MPI_Ibcast");
            _deadline.Wait(ref request, "MPI_Bcast");
        }
    }

    public void Broadcast(long[] values, int root)
    {
        fixed (long* data = values)
        {
            Check(MpiNative.MPI_Ibcast(data, values.Length, MpiNative.LongLong, root, MpiNative.CommWorld, out var request), "MPI_Ibcast");
            _deadline.Wait(ref request, "MPI_Bcast");
        }
    }

    /// <summary>How often a rank waiting for rank 0 checks the barrier; it sleeps in between.</summary>
    static readonly TimeSpan IdleCheck = TimeSpan.FromMilliseconds(10);

    public void WaitForRankZero()
    {
        Check(MpiNative.MPI_Ibarrier(MpiNative.CommWorld, out var request), "MPI_Ibarrier");
        while (true)
        {
            Check(MpiNative.MPI_Test(ref request, out int done, MpiNative.StatusIgnore), "MPI_Test");
            if (done != 0) return;
            Thread.Sleep(IdleCheck);
        }
    }

    public void Abort(int exitCode) => MpiNative.MPI_Abort(MpiNative.CommWorld, exitCode);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMemory.Free(_sendBuffer);
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
