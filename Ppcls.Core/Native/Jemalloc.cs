using System.Runtime.InteropServices;
using System.Text;

namespace Ppcls.Core.Native;

/// <summary>The jemalloc this process runs on (preloaded), read through its `mallctl`.</summary>
public sealed record Jemalloc(string Version, long DirtyDecayMs, long MuzzyDecayMs)
{
    /// <summary>A decay time of -1 ms: freed pages are never purged, so tensors reuse them without page faults.</summary>
    public bool KeepsFreedPages => DirtyDecayMs == -1 && MuzzyDecayMs == -1;

    /// <summary>The jemalloc in the process's global symbol scope, or null when malloc is another one (glibc's).</summary>
    public static unsafe Jemalloc? InProcess()
    {
        if (!NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "mallctl", out var export)) return null;
        var mallctl = (delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int>)export;

        T Read<T>(string name) where T : unmanaged
        {
            T value = default;
            nuint size = (nuint)sizeof(T);
            byte[] key = Encoding.ASCII.GetBytes(name + "\0");
            fixed (byte* k = key)
            {
                int error = mallctl(k, &value, &size, null, 0);
                if (error != 0) throw new InvalidOperationException($"jemalloc mallctl(\"{name}\") failed with error {error}");
            }
            return value;
        }

        string version = Marshal.PtrToStringAnsi(Read<IntPtr>("version")) ?? "?";
        return new Jemalloc(version.Split('-')[0], Read<nint>("opt.dirty_decay_ms"), Read<nint>("opt.muzzy_decay_ms"));
    }
}
