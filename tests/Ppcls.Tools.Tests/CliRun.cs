using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Tests;

/// <summary>Runs the real `ppcls` command tree in-process and captures what it printed.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static CliRun Of(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = PpclsCli.Run(args, output, error);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>Runs the built `ppcls` in a child process (what differs between processes, such as hash seeds, differs here too).</summary>
    public static CliRun InChildProcess(params string[] args) => OfProcess(ChildStart(args));

    /// <summary>Runs <paramref name="start"/> (output and error redirected) to its end and captures what it printed.</summary>
    public static CliRun OfProcess(System.Diagnostics.ProcessStartInfo start)
    {
        using var child = System.Diagnostics.Process.Start(start)!;
        var output = child.StandardOutput.ReadToEndAsync();
        string error = child.StandardError.ReadToEnd();
        child.WaitForExit();
        return new CliRun(child.ExitCode, output.Result, error);
    }

    /// <summary>
    /// Runs the built `ppcls` in a child process and kills it with SIGKILL as soon as a line of
    /// its output satisfies <paramref name="killAt"/>; returns what it printed until then.
    /// </summary>
    public static CliRun KilledWhen(Func<string, bool> killAt, params string[] args)
    {
        using var child = System.Diagnostics.Process.Start(ChildStart(args))!;
        var printed = new System.Text.StringBuilder();
        var error = child.StandardError.ReadToEndAsync();
        while (child.StandardOutput.ReadLine() is { } line)
        {
            printed.AppendLine(line);
            if (!killAt(line)) continue;
            child.Kill(entireProcessTree: true); // SIGKILL on Linux: no handler, no clean-up runs
            break;
        }
        child.WaitForExit();
        return new CliRun(child.ExitCode, printed.ToString(), error.Result);
    }

    static System.Diagnostics.ProcessStartInfo ChildStart(string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ppcls.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>The repository root (where Ppcls.sln is), found from the test binary's folder.</summary>
    public static string RepoRoot { get; } = FindRoot();

    static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ppcls.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Ppcls.sln not found above " + AppContext.BaseDirectory);
    }

    public static string QuickStartConfig => Path.Combine(RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_demo.yaml");
}
