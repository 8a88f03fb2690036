using System.Diagnostics;
using System.Text.Json;

namespace Ppcls.Tools.Tests;

/// <summary>
/// The allocator the launcher gives `ppcls`: scripts/jemalloc.sh preloads Debian's libjemalloc2
/// (scripts/setup.sh installs it) without purging; the process reports what it runs on.
/// </summary>
[NonParallelizable]
public sealed class AllocatorTests
{
    /// <summary>Runs the built ppcls.dll from bash after sourcing scripts/jemalloc.sh, as ./ppcls does.</summary>
    static CliRun ThroughLauncherEnvironment(IDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = CliRun.RepoRoot };
        foreach (var a in (string[])["-c", ". scripts/jemalloc.sh && exec dotnet \"$@\"", "ppcls", Path.Combine(AppContext.BaseDirectory, "ppcls.dll"), .. args])
            start.ArgumentList.Add(a);
        // The test host's own settings must not leak into the child.
        start.Environment.Remove("LD_PRELOAD");
        start.Environment.Remove("MALLOC_CONF");
        start.Environment.Remove("PPCLS_MALLOC_TUNING");
        foreach (var (key, value) in environment) start.Environment[key] = value;
        return CliRun.OfProcess(start);
    }

    static string MallocLine(CliRun run) =>
        run.Output.Split('\n').Single(l => l.Contains("] malloc tuning: ")).Trim();

    [Test]
    public void The_launcher_runs_ppcls_on_jemalloc_that_keeps_freed_pages()
    {
        var run = ThroughLauncherEnvironment(new Dictionary<string, string>(), "doctor");

        Assert.That(MallocLine(run), Does.StartWith("[ OK ] malloc tuning: on (jemalloc 5.").And.EndWith("dirty_decay_ms=-1, muzzy_decay_ms=-1)"),
            "is Debian's libjemalloc2 installed? scripts/setup.sh installs it");
    }

    [Test]
    public void Glibc_is_kept_on_request_with_its_tuning()
    {
        var run = ThroughLauncherEnvironment(new Dictionary<string, string> { ["PPCLS_MALLOC_TUNING"] = "glibc" }, "doctor");

        Assert.That(MallocLine(run), Does.StartWith("[ OK ] malloc tuning: on (glibc 2."));
    }

    [Test]
    public void A_jemalloc_that_purges_freed_pages_fails_the_doctor_with_the_fix()
    {
        var run = ThroughLauncherEnvironment(new Dictionary<string, string> { ["MALLOC_CONF"] = "dirty_decay_ms:1000" }, "doctor");

        Assert.That(MallocLine(run), Does.StartWith("[FAIL] malloc tuning: jemalloc 5.").And.Contain("purges freed pages (dirty_decay_ms=1000")
            .And.Contain("fix: run through ./ppcls"));
        Assert.That(run.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void Benchmark_malloc_runs_each_setting_in_a_child_on_that_allocator()
    {
        var run = ThroughLauncherEnvironment(new Dictionary<string, string>(),
            "benchmark", "malloc", "--model", "PPLCNet_x0_25", "--batch-size", "2", "--image-size", "32", "--steps", "1");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var malloc = lines.Where(l => l.TryGetProperty("malloc", out _))
            .ToDictionary(l => l.GetProperty("phase").GetString()!, l => l.GetProperty("malloc").GetString()!);
        Assert.That(malloc["malloc_jemalloc"], Does.StartWith("on (jemalloc"));
        Assert.That(malloc["malloc_glibc"], Does.StartWith("on (glibc"), "jemalloc is dropped from the child's LD_PRELOAD");
        Assert.That(malloc["malloc_off"], Is.EqualTo("off (PPCLS_MALLOC_TUNING=0)"));
        Assert.That(lines.Select(l => l.GetProperty("phase").GetString()).Where(p => p!.Contains('/')),
            Is.EqualTo(new[] { "malloc_jemalloc/malloc_glibc", "malloc_glibc/malloc_off", "malloc_jemalloc/malloc_off" }));
        // Each ratio is the quotient of the printed figures (which setting is faster depends on the machine's load).
        var byPhase = lines.ToDictionary(l => l.GetProperty("phase").GetString()!);
        foreach (var ratioLine in lines.Where(l => l.GetProperty("phase").GetString()!.Contains('/')))
        {
            var (a, b) = (byPhase[ratioLine.GetProperty("phase").GetString()!.Split('/')[0]], byPhase[ratioLine.GetProperty("phase").GetString()!.Split('/')[1]]);
            double Figure(JsonElement line, string key) => line.GetProperty(key).GetDouble();
            double ratio = Figure(ratioLine, "ratio"), peak = Figure(ratioLine, "peak_rss_ratio");
            Assert.That(ratio, Is.EqualTo(Figure(a, "samples_per_s") / Figure(b, "samples_per_s")).Within(0.01 * ratio + 1e-3), ratioLine.ToString());
            Assert.That(peak, Is.EqualTo(Figure(a, "peak_rss_bytes") / Figure(b, "peak_rss_bytes")).Within(1e-4), ratioLine.ToString());
            Assert.That(Figure(ratioLine, "samples_per_s"), Is.EqualTo(Figure(a, "samples_per_s")), "a ratio line repeats its numerator's figures");
        }
    }
}
