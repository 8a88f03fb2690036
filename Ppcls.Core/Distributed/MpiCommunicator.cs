using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>
/// MPI_COMM_WORLD of an Open MPI job (`mpirun -np N [-H host1,host2] ppcls ...`): rank and size
/// from MPI, the local rank and size from Open MPI's environment. Tensors are CPU tensors; buffers
/// larger than 2^31 - 1 elements are sent in pieces. Every collective is nonblocking and waited for
/// with a deadline (<see cref="CollectiveDeadline"/>), except the wait for rank 0 working alone
/// (<see cref="WaitForRankZero"/>); <see cref="StartAllReduceSum"/> returns at once and the
/// communication thread (<see cref="MpiProgress"/>) moves the sum on. Disposing finalizes MPI.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    const int MaxCount = int.MaxValue;
    readonly CollectiveDeadline _deadline;
    readonly MpiProgress _progress = new();
    // MPI is initialised MPI_THREAD_SERIALIZED: the training thread and the communication thread take turns under this lock.
    readonly object _mpi = new();
    bool _disposed;

    MpiCommunicator(int rank, int size, int localRank, int localSize)
    {
        Rank = rank;
        Size = size;
        LocalRank = localRank;
        LocalSize = localSize;
        _deadline = new CollectiveDeadline(rank, size, _mpi);
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

    public void AllReduceSum(Tensor buffer) => Start(buffer).Wait();

    /// <summary>Starts the sum and hands it to the communication thread (<see cref="MpiProgress"/>), which moves it on.</summary>
    public IPendingCollective StartAllReduceSum(Tensor buffer)
    {
        var collective = Start(buffer);
        _progress.Track(collective);
        return collective;
    }

    MpiPendingCollective Start(Tensor buffer)
    {
        RequireContiguousCpu(buffer);
        if (buffer.dtype != ScalarType.Float32) throw new ArgumentException($"expected float32, got {buffer.dtype}", nameof(buffer));
        var data = (float*)DataPointer(buffer);
        long n = buffer.numel();
        var collective = new MpiPendingCollective("MPI_Allreduce", _mpi, _deadline);
        float* send = null;
        if (Size >= 4 && n * sizeof(float) >= RingBytes)
        {
            send = (float*)NativeMemory.Alloc((nuint)(n * sizeof(float)));
            Buffer.MemoryCopy(data, send, n * sizeof(float), n * sizeof(float));
            collective.Own(send);
        }
        lock (_mpi)
            for (long start = 0; start < n; start += MaxCount)
            {
                int count = (int)Math.Min(MaxCount, n - start);
                var sendPointer = send is null ? MpiNative.InPlace : (IntPtr)(send + start);
                Check(MpiNative.MPI_Iallreduce(sendPointer, data + start, count, MpiNative.Float, MpiNative.Sum, MpiNative.CommWorld, out var request), "MPI_Iallreduce");
                collective.Add(request);
            }
        return collective;
    }

    public void AllReduceSum(double[] values)
    {
        fixed (double* data = values)
        {
            IntPtr request;
            lock (_mpi) Check(MpiNative.MPI_Iallreduce(MpiNative.InPlace, data, values.Length, MpiNative.Double, MpiNative.Sum, MpiNative.CommWorld, out request), "MPI_Iallreduce");
            Wait(request, "MPI_Allreduce");
        }
    }

    public void Broadcast(Tensor buffer, int root)
    {
        RequireContiguousCpu(buffer);
        var data = (byte*)DataPointer(buffer);
        for (long start = 0, n = buffer.numel() * buffer.element_size(); start < n; start += MaxCount)
        {
            IntPtr request;
            lock (_mpi) Check(MpiNative.MPI_Ibcast(data + start, (int)Math.Min(MaxCount, n - start), MpiNative.Byte, root, MpiNative.CommWorld, out request), "MPI_Ibcast");
            Wait(request, "MPI_Bcast");
        }
    }

    public void Broadcast(long[] values, int root)
    {
        fixed (long* data = values)
        {
            IntPtr request;
            lock (_mpi) Check(MpiNative.MPI_Ibcast(data, values.Length, MpiNative.LongLong, root, MpiNative.CommWorld, out request), "MPI_Ibcast");
            Wait(request, "MPI_Bcast");
        }
    }

    /// <summary>Waits for one request of a blocking call made on this thread.</summary>
    void Wait(IntPtr request, string call)
    {
        var collective = new MpiPendingCollective(call, _mpi, _deadline);
        collective.Add(request);
        collective.Wait();
    }

    /// <summary>How often a rank waiting for rank 0 checks the barrier; it sleeps in between.</summary>
    static readonly TimeSpan IdleCheck = TimeSpan.FromMilliseconds(10);

    public void WaitForRankZero()
    {
        IntPtr request;
        lock (_mpi) Check(MpiNative.MPI_Ibarrier(MpiNative.CommWorld, out request), "MPI_Ibarrier");
        var barrier = new MpiPendingCollective("MPI_Barrier", _mpi, _deadline);
        barrier.Add(request);
        while (!barrier.Test()) Thread.Sleep(IdleCheck);
    }

    public void Abort(int exitCode) => MpiNative.MPI_Abort(MpiNative.CommWorld, exitCode);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _progress.Dispose();
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
