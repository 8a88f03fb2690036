using System.Diagnostics;

namespace Ppcls.Tools.Tests;

/// <summary>
/// Runs a built program of the test output (ppcls.dll, Ppcls.MpiProbe.dll) as a job of N ranks
/// under Open MPI's `mpirun` (as root it needs --allow-run-as-root; --oversubscribe lets 2 ranks
/// share fewer cores), or alone without mpirun for N = 1. Killed after <see cref="Timeout"/>.
/// </summary>
public static class MpiJob
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public static string? Mpirun { get; } = FindMpirun();

    /// <summary>Ignores the calling test, loudly, where mpirun is missing (scripts/setup.sh installs openmpi-bin).</summary>
    public static void RequireMpirun()
    {
        if (Mpirun is not null) return;
        const string message = "SKIPPED: mpirun is not installed, so the data-parallel tests cannot run; install openmpi-bin and libopenmpi3 (scripts/setup.sh does)";
        TestContext.Error.WriteLine(message);
        Assert.Ignore(message);
    }

    public static CliRun Run(int ranks, string program, params string[] args)
    {
        var start = new ProcessStartInfo(ranks == 1 ? "dotnet" : Mpirun!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (ranks > 1)
            foreach (var a in (string[])["-np", ranks.ToString(), "--allow-run-as-root", "--oversubscribe", "dotnet"]) start.ArgumentList.Add(a);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, program));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["CI"] = "1"; // plain log lines, no progress bar
        using var child = Process.Start(start)!;
        var output = child.StandardOutput.ReadToEndAsync();
        var error = child.StandardError.ReadToEndAsync();
        if (!child.WaitForExit(Timeout))
        {
            child.Kill(entireProcessTree: true);
            Assert.Fail($"{program} on {ranks} rank(s) did not finish in {Timeout.TotalMinutes} minutes; output so far:\n{output.Result}\n{error.Result}");
        }
        child.WaitForExit();
        return new CliRun(child.ExitCode, output.Result, error.Result);
    }

    static string? FindMpirun() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "mpirun")).FirstOrDefault(File.Exists);
}
