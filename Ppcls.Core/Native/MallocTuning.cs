using System.Runtime.InteropServices;

namespace Ppcls.Core.Native;

/// <summary>
/// Keeps the memory of freed tensors in the process for the next step instead of handing it
/// back to the OS, where every step would page-fault it in again.
/// - jemalloc, when the process runs on it (the ppcls launcher preloads it through
///   scripts/jemalloc.sh with MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1): its size classes
///   keep small allocations away from the big tensor blocks. Measured on MobileNetV2 (batch 32,
///   224 px): peak RSS 3.0 GB against 4.5-5.0 GB on tuned glibc, whose heap fragments and keeps
///   growing (each growth a step of page faults) for the first steps. Nothing to do here but
///   report it: a jemalloc that purges freed pages (its default) is flagged, not fixed.
/// - glibc otherwise: with mmap off and trimming disabled, freed blocks are reused from the heap
///   (a train step ~7x faster than glibc's defaults, which mmap every big block afresh).
///   Tried and left out: M_ARENA_MAX=1 (batches a loader worker allocates would stop
///   page-faulting afresh, 3.5x fewer faults, but the one shared heap fragments: resident memory
///   grew 11% from epoch 2 to 5 of the quick start, against 3% with per-thread arenas) and
///   libtorch's THP_MEM_ALLOC_ENABLE huge pages (slower batch writes).
/// Must run before the first tensor. PPCLS_MALLOC_TUNING=0 turns both off (glibc defaults);
/// =glibc keeps the launcher from preloading jemalloc.
/// </summary>
public static partial class MallocTuning
{
    public const string OptOutVariable = "PPCLS_MALLOC_TUNING";

    const int M_TRIM_THRESHOLD = -1;
    const int M_MMAP_MAX = -4;

    /// <summary>What <see cref="Apply"/> found and did, for `ppcls doctor` and the benchmarks.</summary>
    public static string State { get; private set; } = "not applied";

    /// <summary>Whether freed tensor memory is kept for reuse (jemalloc without purging, or tuned glibc).</summary>
    public static bool IsApplied { get; private set; }

    /// <summary>Whether the process runs on jemalloc (preloaded) rather than glibc's malloc.</summary>
    public static bool OnJemalloc { get; private set; }

    /// <summary>Applies the tuning once per process; safe to call again.</summary>
    public static void Apply()
    {
        if (IsApplied) return;
        if (Environment.GetEnvironmentVariable(OptOutVariable) == "0")
        {
            State = $"off ({OptOutVariable}=0)";
            return;
        }
        if (!OperatingSystem.IsLinux())
        {
            State = "not applicable (not Linux)";
            return;
        }
        if (Jemalloc.InProcess() is { } jemalloc)
        {
            OnJemalloc = true;
            IsApplied = jemalloc.KeepsFreedPages;
            State = jemalloc.KeepsFreedPages
                ? $"on (jemalloc {jemalloc.Version}: dirty_decay_ms={jemalloc.DirtyDecayMs}, muzzy_decay_ms={jemalloc.MuzzyDecayMs})"
                : $"jemalloc {jemalloc.Version} purges freed pages (dirty_decay_ms={jemalloc.DirtyDecayMs}, muzzy_decay_ms={jemalloc.MuzzyDecayMs}): " +
                  "tensors may page-fault in again every step (jemalloc's defaults made a MobileNetV2 step 25x slower)";
            return;
        }
        try
        {
            string glibc = Marshal.PtrToStringAnsi(gnu_get_libc_version()) ?? "?";
            bool ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
            IsApplied = ok;
            State = ok ? $"on (glibc {glibc}: M_MMAP_MAX=0, M_TRIM_THRESHOLD=INT_MAX)" : $"failed (glibc {glibc} refused mallopt)";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            State = "not applicable (C library is not glibc)";
        }
    }

    /// <summary>
    /// Hands the allocator's free pages back to the OS (jemalloc: purge every arena; tuned glibc:
    /// malloc_trim), so that what an epoch freed and the next will not reuse (evaluation's
    /// tensors, the JIT's working memory) stops counting as resident. The next step page-faults
    /// its tensors in once: for MobileNetV2 at 224 px that is about one extra step's time.
    /// </summary>
    public static void ReleaseFreeMemory()
    {
        if (!IsApplied) return;
        if (OnJemalloc) Jemalloc.PurgeAll();
        else malloc_trim(0);
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);

    [LibraryImport("libc", EntryPoint = "gnu_get_libc_version")]
    private static partial IntPtr gnu_get_libc_version();
}
