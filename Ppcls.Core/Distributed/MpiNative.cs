using System.Runtime.InteropServices;

namespace Ppcls.Core.Distributed;

/// <summary>
/// The few Open MPI calls Ppcls uses, bound from `libmpi.so.40` (Debian's `libopenmpi3`). In
/// Open MPI's mpi.h the handles are not integers: MPI_COMM_WORLD is `&amp;ompi_mpi_comm_world`,
/// MPI_FLOAT `&amp;ompi_mpi_float`, MPI_SUM `&amp;ompi_mpi_op_sum` and so on, so their addresses are
/// looked up as exported symbols; MPI_IN_PLACE is `(void *) 1`.
/// </summary>
static unsafe class MpiNative
{
    public const string Library = "libmpi.so.40";
    public const int ThreadSerialized = 2; // Open MPI: SINGLE 0, FUNNELED 1, SERIALIZED 2, MULTIPLE 3
    public const int AnySource = -1;
    public static readonly IntPtr InPlace = 1;
    public static readonly IntPtr StatusIgnore = 0;

    /// <summary>Open MPI's public MPI_Status (ompi_status_public_t).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Status
    {
        public int Source;
        public int Tag;
        public int Error;
        int _cancelled;
        nuint _count;
    }

    public static IntPtr CommWorld { get; private set; }
    public static IntPtr Float { get; private set; }
    public static IntPtr Double { get; private set; }
    public static IntPtr Int { get; private set; }
    public static IntPtr Byte { get; private set; }
    public static IntPtr LongLong { get; private set; }
    public static IntPtr Sum { get; private set; }

    /// <summary>
    /// Loads the library with RTLD_GLOBAL (Open MPI's plug-ins resolve its symbols from the
    /// global scope, as mpi4py loads it) and resolves the handles. Throws with the loader's message.
    /// </summary>
    public static void Load()
    {
        const int RtldNow = 2, RtldGlobal = 0x100;
        if (dlopen(Library, RtldNow | RtldGlobal) == IntPtr.Zero)
            throw new DllNotFoundException(Marshal.PtrToStringUTF8(dlerror()) ?? Library);
        var handle = NativeLibrary.Load(Library);
        CommWorld = NativeLibrary.GetExport(handle, "ompi_mpi_comm_world");
        Float = NativeLibrary.GetExport(handle, "ompi_mpi_float");
        Double = NativeLibrary.GetExport(handle, "ompi_mpi_double");
        Int = NativeLibrary.GetExport(handle, "ompi_mpi_int");
        Byte = NativeLibrary.GetExport(handle, "ompi_mpi_byte");
        LongLong = NativeLibrary.GetExport(handle, "ompi_mpi_long_long_int");
        Sum = NativeLibrary.GetExport(handle, "ompi_mpi_op_sum");
    }

    [DllImport("libc.so.6")] static extern IntPtr dlopen(string file, int mode);
    [DllImport("libc.so.6")] static extern IntPtr dlerror();

    [DllImport(Library)] public static extern int MPI_Initialized(out int flag);
    [DllImport(Library)] public static extern int MPI_Init_thread(IntPtr argc, IntPtr argv, int required, out int provided);
    [DllImport(Library)] public static extern int MPI_Finalized(out int flag);
    [DllImport(Library)] public static extern int MPI_Finalize();
    [DllImport(Library)] public static extern int MPI_Comm_rank(IntPtr comm, out int rank);
    [DllImport(Library)] public static extern int MPI_Comm_size(IntPtr comm, out int size);
    [DllImport(Library)] public static extern int MPI_Iallreduce(IntPtr sendBuffer, void* receiveBuffer, int count, IntPtr datatype, IntPtr op, IntPtr comm, out IntPtr request);
    [DllImport(Library)] public static extern int MPI_Ibcast(void* buffer, int count, IntPtr datatype, int root, IntPtr comm, out IntPtr request);
    [DllImport(Library)] public static extern int MPI_Ibarrier(IntPtr comm, out IntPtr request);
    [DllImport(Library)] public static extern int MPI_Test(ref IntPtr request, out int flag, IntPtr status);
    [DllImport(Library)] public static extern int MPI_Request_free(ref IntPtr request);
    [DllImport(Library)] public static extern int MPI_Isend(void* buffer, int count, IntPtr datatype, int destination, int tag, IntPtr comm, out IntPtr request);
    [DllImport(Library)] public static extern int MPI_Recv(void* buffer, int count, IntPtr datatype, int source, int tag, IntPtr comm, IntPtr status);
    [DllImport(Library)] public static extern int MPI_Iprobe(int source, int tag, IntPtr comm, out int flag, out Status status);
    [DllImport(Library)] public static extern int MPI_Abort(IntPtr comm, int errorCode);
}
