using System.Globalization;

namespace Ppcls.Core.Native;

/// <summary>The process's resident memory from /proc (Linux); -1 where it cannot be read.</summary>
public static class ProcessMemory
{
    /// <summary>Current resident set (VmRSS) in bytes.</summary>
    public static long ResidentBytes() => StatusField("VmRSS:");

    /// <summary>Peak resident set (VmHWM) in bytes.</summary>
    public static long PeakResidentBytes() => StatusField("VmHWM:");

    static long StatusField(string name)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return -1;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
        return line is null ? -1 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
