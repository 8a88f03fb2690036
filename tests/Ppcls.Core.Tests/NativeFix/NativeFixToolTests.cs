using System.Diagnostics;
using Ppcls.NativeFix;

namespace Ppcls.Core.Tests.NativeFix;

/// <summary>The build step's entry point: in-process through <see cref="NativeFixTool"/>, and as the real program.</summary>
[TestFixture]
public sealed class NativeFixToolTests
{
    TempDirectory temp = null!;
    string output = null!;
    string library = null!;

    [SetUp]
    public void WriteBuildOutputWithNestedLibrary()
    {
        temp = new TempDirectory();
        output = temp.File("bin");
        library = ElfFixture.TorchSharpLike().WriteTo(Path.Combine(output, "runtimes", "linux-x64", "native", GlibcxxPatch.LibraryName));
    }

    [TearDown]
    public void DeleteTempDirectory() => temp.Dispose();

    [Test]
    public void Run_marks_the_nested_library_weak_and_says_so_once_when_libstdcxx_lacks_the_version()
    {
        string libStdCxx = ElfFixture.LibStdCxxLike("GLIBCXX_3.4.30").WriteTo(temp.File("libstdc++.so.6"));
        var log = new StringWriter();

        NativeFixTool.Run(output, log, libStdCxx);

        Assert.That(GlibcxxPatch.FindEntry(library)!.IsWeak, Is.True);
        Assert.That(Lines(log.ToString()), Has.Length.EqualTo(1));
        Assert.That(log.ToString(), Does.Contain(library).And.Contain(GlibcxxPatch.Version).And.Contain(libStdCxx));
    }

    [Test]
    public void Run_twice_patches_once_and_is_silent_the_second_time()
    {
        string libStdCxx = ElfFixture.LibStdCxxLike("GLIBCXX_3.4.30").WriteTo(temp.File("libstdc++.so.6"));
        NativeFixTool.Run(output, TextWriter.Null, libStdCxx);
        byte[] patched = File.ReadAllBytes(library);
        var log = new StringWriter();

        NativeFixTool.Run(output, log, libStdCxx);

        Assert.That(log.ToString(), Is.Empty);
        Assert.That(File.ReadAllBytes(library), Is.EqualTo(patched));
    }

    [Test]
    public void Run_leaves_the_library_untouched_and_is_silent_when_libstdcxx_has_the_version()
    {
        string libStdCxx = ElfFixture.LibStdCxxLike("GLIBCXX_3.4.32").WriteTo(temp.File("libstdc++.so.6"));
        byte[] before = File.ReadAllBytes(library);
        var log = new StringWriter();

        NativeFixTool.Run(output, log, libStdCxx);

        Assert.That(File.ReadAllBytes(library), Is.EqualTo(before));
        Assert.That(log.ToString(), Is.Empty);
    }

    [Test]
    public void Run_does_nothing_where_there_is_no_libstdcxx()
    {
        byte[] before = File.ReadAllBytes(library);
        var log = new StringWriter();

        NativeFixTool.Run(output, log, libStdCxx: null);

        Assert.That(File.ReadAllBytes(library), Is.EqualTo(before));
        Assert.That(log.ToString(), Is.Empty);
    }

    [Test]
    public void Run_ignores_files_with_other_names()
    {
        string libStdCxx = ElfFixture.LibStdCxxLike("GLIBCXX_3.4.30").WriteTo(temp.File("libstdc++.so.6"));
        string other = ElfFixture.TorchSharpLike().WriteTo(Path.Combine(output, "libtorch_cpu.so"));
        byte[] before = File.ReadAllBytes(other);

        NativeFixTool.Run(output, TextWriter.Null, libStdCxx);

        Assert.That(File.ReadAllBytes(other), Is.EqualTo(before));
    }

    [Test]
    public void The_program_patches_exactly_when_the_system_libstdcxx_lacks_the_version()
    {
        byte[] before = File.ReadAllBytes(library);
        string? system = GlibcxxPatch.FindSystemLibStdCxx();
        bool expectPatch = system is not null && !GlibcxxPatch.Defines(system, GlibcxxPatch.Version);

        var (exitCode, stdout, stderr) = RunProgram(output);

        Assert.That(exitCode, Is.Zero, stderr);
        Assert.That(stderr, Is.Empty);
        if (expectPatch)
        {
            Assert.That(GlibcxxPatch.FindEntry(library)!.IsWeak, Is.True);
            Assert.That(Lines(stdout), Has.Length.EqualTo(1));
            Assert.That(stdout, Does.Contain(library).And.Contain(system));
        }
        else
        {
            Assert.That(File.ReadAllBytes(library), Is.EqualTo(before));
            Assert.That(stdout, Is.Empty);
        }
    }

    [Test]
    public void The_program_without_a_directory_prints_usage_and_exits_with_2()
    {
        var (exitCode, stdout, stderr) = RunProgram(temp.File("does-not-exist"));

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(stderr, Does.StartWith("usage: Ppcls.NativeFix"));
        Assert.That(stdout, Is.Empty);
    }

    static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Runs Ppcls.NativeFix.dll (copied next to the tests by the project reference) as the build does.</summary>
    static (int ExitCode, string Stdout, string Stderr) RunProgram(string directory)
    {
        string dll = Path.Combine(Path.GetDirectoryName(typeof(GlibcxxPatch).Assembly.Location)!, "Ppcls.NativeFix.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(directory);
        using var process = Process.Start(start)!;
        var stderrTask = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = stderrTask.GetAwaiter().GetResult();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            Assert.Fail("Ppcls.NativeFix did not finish within 30 s");
        }
        return (process.ExitCode, stdout, stderr);
    }
}
