using System.Globalization;

namespace Ppcls.Data.Loading;

/// <summary>How much memory a new allocation can get on this machine, read without allocating it.</summary>
public static class AvailableMemory
{
    /// <summary>
    /// The smaller of Linux's MemAvailable (/proc/meminfo: free memory plus what the kernel can
    /// reclaim) and the limit the runtime sees (a container's memory limit, or physical memory on
    /// systems without /proc/meminfo); null when neither is known.
    /// </summary>
    public static long? Bytes()
    {
        long? meminfo = MemAvailable("/proc/meminfo");
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return limit > 0 ? Math.Min(limit, meminfo ?? long.MaxValue) : meminfo;
    }

    /// <summary>The `MemAvailable:` line of a meminfo file in bytes; null where the file or line is missing or unreadable.</summary>
    public static long? MemAvailable(string meminfoPath)
    {
        try
        {
            if (!File.Exists(meminfoPath)) return null;
            foreach (var line in File.ReadLines(meminfoPath))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var fields = line["MemAvailable:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length == 2 && fields[1] == "kB" && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib)
                    ? kib * 1024 : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }
}
