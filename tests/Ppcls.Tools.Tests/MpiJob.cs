using System.Diagnostics;

namespace Ppcls.Tools.Tests;

/// <summary>
/// Runs a built program of the test output (ppcls.dll, Ppcls.MpiProbe.dll) as a job of N ranks
/// under Open MPI's `mpirun` (as root it needs --allow-run-as-root; --oversubscribe lets 2 ranks
/// share fewer cores), or alone without mpirun for N = 1. Killed after <see cref="Timeout"/>.
/// <see cref="Start"/> returns while it runs, so a test can signal one of its ranks.
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

    public static CliRun Run(int ranks, string program, params string[] args) => Start(ranks, program, args).Finish();

    /// <summary>Starts the job and returns while it runs (<see cref="Job.Finish"/> waits for it).</summary>
    public static Job Start(int ranks, string program, params string[] args)
    {
        var start = new ProcessStartInfo(ranks == 1 ? "dotnet" : Mpirun!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (ranks > 1)
            foreach (var a in (string[])["-np", ranks.ToString(), "--allow-run-as-root", "--oversubscribe", "dotnet"]) start.ArgumentList.Add(a);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, program));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["CI"] = "1"; // plain log lines, no progress bar
        string marker = Guid.NewGuid().ToString("N");
        start.Environment[JobMarker] = marker; // mpirun passes it on to the ranks
        var child = Process.Start(start)!;
        return new Job(child, child.StandardOutput.ReadToEndAsync(), child.StandardError.ReadToEndAsync(), $"{program} on {ranks} rank(s)", marker);
    }

    const string JobMarker = "PPCLS_TEST_JOB";

    /// <summary>A started job: its ranks' process ids, and its end.</summary>
    public sealed class Job(Process child, Task<string> output, Task<string> error, string name, string marker)
    {
        /// <summary>The process of rank <paramref name="rank"/> (found by the environment mpirun gave it), null before it starts.</summary>
        public int? RankProcess(int rank)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
                string environment;
                try { environment = File.ReadAllText(Path.Combine(dir, "environ")); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                var variables = environment.Split('\0');
                if (variables.Contains($"{JobMarker}={marker}") && variables.Contains($"OMPI_COMM_WORLD_RANK={rank}")) return pid;
            }
            return null;
        }

        bool _finished;

        public bool HasExited => _finished || child.HasExited;

        /// <summary>Waits for the job (killed after <paramref name="timeout"/>, default <see cref="Timeout"/>) and returns its exit code and output.</summary>
        public CliRun Finish(TimeSpan? timeout = null)
        {
            var limit = timeout ?? Timeout;
            _finished = true;
            using (child)
            {
                if (!child.WaitForExit(limit))
                {
                    child.Kill(entireProcessTree: true);
                    Assert.Fail($"{name} did not finish in {limit.TotalSeconds} s; output so far:\n{output.Result}\n{error.Result}");
                }
                child.WaitForExit();
                return new CliRun(child.ExitCode, output.Result, error.Result);
            }
        }
    }

    static string? FindMpirun() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "mpirun")).FirstOrDefault(File.Exists);
}
