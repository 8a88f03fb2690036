using System.Runtime.InteropServices;
using System.Text;

namespace Ppcls.Core.Native;

/// <summary>The jemalloc this process runs on (preloaded), read and driven through its `mallctl`.</summary>
public sealed unsafe record Jemalloc(string Version, long DirtyDecayMs, long MuzzyDecayMs)
{
    /// <summary>A decay time of -1 ms: freed pages are never purged, so tensors reuse them without page faults.</summary>
    public bool KeepsFreedPages => DirtyDecayMs == -1 && MuzzyDecayMs == -1;

    /// <summary>The jemalloc in the process's global symbol scope, or null when malloc is another one (glibc's).</summary>
    public static Jemalloc? InProcess()
    {
        if (Mallctl() is null) return null;
        string version = Marshal.PtrToStringAnsi(Read<IntPtr>("version")) ?? "?";
        return new Jemalloc(version.Split('-')[0], Read<nint>("opt.dirty_decay_ms"), Read<nint>("opt.muzzy_decay_ms"));
    }

    /// <summary>Returns the free pages of every arena to the OS (`arena.MALLCTL_ARENAS_ALL.purge`).</summary>
    public static void PurgeAll() => Call("arena.4096.purge", null, null);

    static T Read<T>(string name) where T : unmanaged
    {
        T value = default;
        nuint size = (nuint)sizeof(T);
        Call(name, &value, &size);
        return value;
    }

    static void Call(string name, void* value, nuint* size)
    {
        var mallctl = Mallctl();
        if (mallctl is null) throw new InvalidOperationException("this process does not run on jemalloc");
        byte[] key = Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* k = key)
        {
            int error = mallctl(k, value, size, null, 0);
            if (error != 0) throw new InvalidOperationException($"jemalloc mallctl(\"{name}\") failed with error {error}");
        }
    }

    static delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int> Mallctl() =>
        NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "mallctl", out var export)
            ? (delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int>)export
            : null;
}
