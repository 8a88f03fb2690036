using Ppcls.NativeFix;

// Usage: Ppcls.NativeFix <output-dir>
// Patches every libLibTorchSharp.so under the directory where the system needs it.
if (args.Length != 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("usage: Ppcls.NativeFix <build-output-directory>");
    return 2;
}

string? libStdCxx = GlibcxxPatch.FindSystemLibStdCxx();
if (libStdCxx is null) return 0; // not a glibc Linux system: the libtorch build is native here

bool systemHasVersion = GlibcxxPatch.Defines(libStdCxx, GlibcxxPatch.Version);
foreach (var library in Directory.EnumerateFiles(Path.GetFullPath(args[0]), GlibcxxPatch.LibraryName, SearchOption.AllDirectories))
{
    if (GlibcxxPatch.Apply(library, systemHasVersion) == PatchOutcome.Patched)
        Console.WriteLine($"Ppcls.NativeFix: marked {GlibcxxPatch.Version} weak in {library} ({libStdCxx} lacks it)");
}
return 0;
