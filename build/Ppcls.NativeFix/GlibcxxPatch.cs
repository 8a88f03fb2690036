namespace Ppcls.NativeFix;

/// <summary>What <see cref="GlibcxxPatch"/> found or did for one library file.</summary>
public enum PatchOutcome
{
    /// <summary>The system libstdc++ defines the version: nothing to do.</summary>
    NotNeeded,
    /// <summary>The library does not ask for the version at all.</summary>
    NotRequired,
    /// <summary>The entry was already weak (patched before).</summary>
    AlreadyWeak,
    /// <summary>The entry was marked weak just now.</summary>
    Patched,
}

/// <summary>
/// The Debian 12 fix for TorchSharp's libLibTorchSharp.so: it needs GLIBCXX_3.4.32 only
/// through an unrelocated reference to std::ios_base_library_init(), so marking that
/// version-needed entry WEAK lets the dynamic loader accept an older libstdc++.
/// </summary>
public static class GlibcxxPatch
{
    public const string Version = "GLIBCXX_3.4.32";
    public const string LibraryName = "libLibTorchSharp.so";

    static readonly string[] LibStdCxxCandidates =
    [
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
    ];

    /// <summary>The system libstdc++ the loader would pick, or null where none is found (not glibc Linux).</summary>
    public static string? FindSystemLibStdCxx() => LibStdCxxCandidates.FirstOrDefault(File.Exists);

    /// <summary>Whether the given libstdc++ defines <paramref name="version"/>.</summary>
    public static bool Defines(string libStdCxx, string version) =>
        ElfVersionTables.Read(libStdCxx).Defined.Contains(version);

    /// <summary>The GLIBCXX_3.4.32 version-needed entry of a library, or null where it has none.</summary>
    public static VersionNeed? FindEntry(string library) =>
        ElfVersionTables.Read(library).Needed.FirstOrDefault(n => n.Version == Version);

    /// <summary>
    /// Marks the entry weak in <paramref name="library"/> when <paramref name="systemHasVersion"/> is false.
    /// Idempotent. Writes through a temporary file so a crash never leaves a half-written library.
    /// </summary>
    public static PatchOutcome Apply(string library, bool systemHasVersion)
    {
        if (systemHasVersion) return PatchOutcome.NotNeeded;
        var entry = FindEntry(library);
        if (entry is null) return PatchOutcome.NotRequired;
        if (entry.IsWeak) return PatchOutcome.AlreadyWeak;

        byte[] bytes = File.ReadAllBytes(library);
        ushort flags = (ushort)(entry.Flags | VersionNeed.WeakFlag);
        bytes[entry.FlagsOffset] = (byte)flags;
        bytes[entry.FlagsOffset + 1] = (byte)(flags >> 8);
        string temp = library + ".patching";
        File.WriteAllBytes(temp, bytes);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temp, File.GetUnixFileMode(library));
        File.Move(temp, library, overwrite: true);
        return PatchOutcome.Patched;
    }
}
