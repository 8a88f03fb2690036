using System.CommandLine;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using Ppcls.Core.Native;
using Ppcls.NativeFix;
using static TorchSharp.torch;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls doctor`: one line per installation check, with the fix for each failure.</summary>
public static class DoctorCommand
{
    sealed record Check(string Name, Func<string> Probe, string Fix);

    public static Command Build()
    {
        var outputDir = new Option<string>("--output-dir")
        {
            Description = "folder whose free disk space to check",
            DefaultValueFactory = _ => "./output",
        };
        var command = new Command("doctor",
            "Check the installation: libtorch, the GLIBCXX patch, threads, CUDA, OpenCV, plot fonts, ONNX Runtime, disk space.\n\n" +
            "Example:\n  ppcls doctor");
        command.Add(outputDir);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            int failures = 0;
            foreach (var check in Checks(parse.GetValue(outputDir)!))
            {
                try
                {
                    output.WriteLine($"[ OK ] {check.Name}: {check.Probe()}");
                }
                catch (Exception e)
                {
                    failures++;
                    output.WriteLine($"[FAIL] {check.Name}: {FirstLine(e)} -- fix: {check.Fix}");
                }
            }
            output.WriteLine(failures == 0 ? "all checks passed" : $"{failures} check(s) failed");
            return failures == 0 ? 0 : 1;
        });
        return command;
    }

    static IEnumerable<Check> Checks(string outputDir) =>
    [
        new("libtorch", () =>
            {
                using var t = ones(2, 2);
                float sum = t.sum().item<float>();
                if (sum != 4f) throw new InvalidOperationException($"ones(2,2).sum() gave {sum}");
                return $"loads and computes (libtorch {__version__}, TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version})";
            },
            "rebuild with ./scripts/setup.sh (the build patches libLibTorchSharp.so where the system needs it)"),
        new("GLIBCXX patch", GlibcxxState, "rebuild: dotnet build Ppcls.sln (the post-build step patches the copy in bin)"),
        new("threads", () => $"{get_num_threads()} intra-op threads, {Environment.ProcessorCount} logical cores",
            "set Global.num_threads in the config"),
        new("malloc tuning", MallocState,
            $"run through ./ppcls, which preloads jemalloc with MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 when MALLOC_CONF is unset; unset {MallocTuning.OptOutVariable}"),
        new("CUDA", () => cuda.is_available() ? $"{cuda.device_count()} device(s) visible" : "not available (CPU build or no GPU): use Global.device: cpu",
            "for GPUs, build with -p:PpclsDevice=cuda on a machine with CUDA"),
        new("OpenCV", () => $"native runtime {Cv2.GetVersionString()} loads",
            "install Debian's GTK 3 runtime: sudo apt-get install -y libgtk-3-0 (./scripts/setup.sh does this)"),
        new("plot fonts", PlotFonts,
            "install a font under /usr/share/fonts: sudo apt-get install -y fonts-dejavu-core (./scripts/setup.sh does this)"),
        new("ONNX Runtime", () => $"version {OrtEnv.Instance().GetVersionString()} loads", "rebuild: dotnet build Ppcls.sln"),
        new("disk space", () => DiskSpace(outputDir), "free some space or point Global.output_dir elsewhere"),
    ];

    /// <summary>A jemalloc that purges freed pages is the one state slower than no tuning at all.</summary>
    static string MallocState() =>
        MallocTuning.OnJemalloc && !MallocTuning.IsApplied ? throw new InvalidOperationException(MallocTuning.State) : MallocTuning.State;

    /// <summary>The PNG reports draw text with SkiaSharp, which reads fonts from /usr/share/fonts (no fontconfig).</summary>
    static string PlotFonts()
    {
        int families = SkiaSharp.SKFontManager.Default.FontFamilyCount;
        if (families == 0) throw new InvalidOperationException("SkiaSharp finds no font: PNG reports would have no text");
        return $"SkiaSharp loads and finds {families} font famil{(families == 1 ? "y" : "ies")} for the PNG reports";
    }

    static string GlibcxxState()
    {
        string library = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", GlibcxxPatch.LibraryName);
        if (!File.Exists(library)) return $"not applicable ({GlibcxxPatch.LibraryName} not in the build output)";
        string? libStdCxx = GlibcxxPatch.FindSystemLibStdCxx();
        bool systemHas = libStdCxx is not null && GlibcxxPatch.Defines(libStdCxx, GlibcxxPatch.Version);
        var entry = GlibcxxPatch.FindEntry(library);
        return (entry, systemHas) switch
        {
            (null, _) => $"not needed ({GlibcxxPatch.LibraryName} does not ask for {GlibcxxPatch.Version})",
            (_, true) => $"not needed ({libStdCxx} provides {GlibcxxPatch.Version})",
            ({ IsWeak: true }, false) => $"applied ({GlibcxxPatch.Version} marked weak; {libStdCxx} lacks it)",
            _ => throw new InvalidOperationException($"{library} still needs {GlibcxxPatch.Version}, which {libStdCxx} lacks"),
        };
    }

    static string DiskSpace(string outputDir)
    {
        string full = Path.GetFullPath(outputDir);
        string probe = full;
        while (!Directory.Exists(probe)) probe = Path.GetDirectoryName(probe) ?? "/";
        var drive = new DriveInfo(probe);
        double freeGiB = drive.AvailableFreeSpace / (double)(1L << 30);
        if (freeGiB < 1) throw new IOException($"only {freeGiB:F2} GiB free for {full}");
        return $"{freeGiB:F1} GiB free for {full}";
    }

    static string FirstLine(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null) inner = inner.InnerException;
        return inner.Message.Split('\n')[0].Trim();
    }
}
