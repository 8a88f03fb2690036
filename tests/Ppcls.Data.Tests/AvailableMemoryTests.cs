using Ppcls.Data.Loading;

namespace Ppcls.Data.Tests;

public sealed class AvailableMemoryTests
{
    [Test]
    public void MemAvailable_is_read_from_a_meminfo_file_in_bytes()
    {
        string file = Path.Combine(TestData.TempDir(), "meminfo");
        File.WriteAllLines(file, ["MemTotal:       24576000 kB", "MemFree:         1000000 kB", "MemAvailable:   12288000 kB", "Buffers:          100 kB"]);

        Assert.That(AvailableMemory.MemAvailable(file), Is.EqualTo(12_288_000L * 1024));
    }

    [Test]
    public void A_missing_file_or_line_gives_no_figure()
    {
        string dir = TestData.TempDir();
        string file = Path.Combine(dir, "meminfo");
        File.WriteAllLines(file, ["MemTotal:       24576000 kB"]);

        Assert.That(AvailableMemory.MemAvailable(file), Is.Null);
        Assert.That(AvailableMemory.MemAvailable(Path.Combine(dir, "absent")), Is.Null);
    }

    [Test]
    public void This_machine_reports_a_positive_amount_no_larger_than_its_memory()
    {
        long? bytes = AvailableMemory.Bytes();

        Assert.That(bytes, Is.GreaterThan(0));
        Assert.That(bytes, Is.LessThanOrEqualTo(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes));
    }
}
