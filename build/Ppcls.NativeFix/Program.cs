using Ppcls.NativeFix;

// Usage: Ppcls.NativeFix <output-dir>
// Patches every libLibTorchSharp.so under the directory where the system needs it.
if (args.Length != 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("usage: Ppcls.NativeFix <build-output-directory>");
    return 2;
}

try
{
    NativeFixTool.Run(args[0], Console.Out);
    return 0;
}
catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
{
    // One line in the build log, naming the file, instead of a stack trace.
    Console.Error.WriteLine($"Ppcls.NativeFix: error: {e.Message} (delete the build output and rebuild)");
    return 1;
}

namespace Ppcls.NativeFix
{
    /// <summary>The build step's body, callable in-process (tests, doctor).</summary>
    public static class NativeFixTool
    {
        /// <summary>
        /// Patches every libLibTorchSharp.so under <paramref name="directory"/> where the system
        /// libstdc++ lacks <see cref="GlibcxxPatch.Version"/>; writes one line to <paramref name="log"/> per patched file.
        /// </summary>
        public static void Run(string directory, TextWriter log) =>
            Run(directory, log, GlibcxxPatch.FindSystemLibStdCxx());

        /// <summary>As <see cref="Run(string, TextWriter)"/>, judging against the given libstdc++ (null: not a glibc Linux system, nothing to do).</summary>
        public static void Run(string directory, TextWriter log, string? libStdCxx)
        {
            if (libStdCxx is null) return; // not a glibc Linux system: the libtorch build is native here

            bool systemHasVersion = GlibcxxPatch.Defines(libStdCxx, GlibcxxPatch.Version);
            foreach (var library in Directory.EnumerateFiles(Path.GetFullPath(directory), GlibcxxPatch.LibraryName, SearchOption.AllDirectories))
            {
                if (GlibcxxPatch.Apply(library, systemHasVersion) == PatchOutcome.Patched)
                    log.WriteLine($"Ppcls.NativeFix: marked {GlibcxxPatch.Version} weak in {library} ({libStdCxx} lacks it)");
            }
        }
    }
}
