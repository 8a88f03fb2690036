using System.Diagnostics;

/// <summary>Committed fixture files (tests/fixtures) and Debian's python3 with numpy, which scripts/setup.sh installs.</summary>
public static class TestFixtures
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([RepoRoot, "tests", "fixtures", .. parts]);

    /// <summary>/usr/bin/python3 when it can import numpy (the set-up installs python3-numpy); null elsewhere.</summary>
    public static string? PythonWithNumpy { get; } = FindPython();

    /// <summary>Runs a fixture script with python3; fails the test with its stderr if it fails.</summary>
    public static string RunPython(string python, params string[] args)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.EqualTo(0), $"python3 {string.Join(" ", args)}: {error}");
        return output.Result;
    }

    static string? FindPython()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) return null;
        var start = new ProcessStartInfo(python, ["-c", "import numpy"]) { RedirectStandardError = true };
        using var process = Process.Start(start)!;
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? python : null;
    }

    static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Ppcls.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Ppcls.sln not found above " + AppContext.BaseDirectory);
    }
}
