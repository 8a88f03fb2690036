using System.Buffers.Binary;
using Ppcls.NativeFix;

namespace Ppcls.Core.Tests.NativeFix;

[TestFixture]
public sealed class ElfVersionTablesTests
{
    const string SystemLibStdCxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";

    TempDirectory temp = null!;

    [SetUp]
    public void CreateTempDirectory() => temp = new TempDirectory();

    [TearDown]
    public void DeleteTempDirectory() => temp.Dispose();

    [Test]
    public void Reads_every_needed_version_with_its_library_and_flags()
    {
        string path = new ElfFixture()
            .Needs("libstdc++.so.6", "CXXABI_1.3", "GLIBCXX_3.4.29", "GLIBCXX_3.4.32")
            .NeedsWithFlags("libc.so.6", ("GLIBC_2.2.5", 0), ("GLIBC_2.34", VersionNeed.WeakFlag))
            .WriteTo(temp.File("lib.so"));

        var needed = ElfVersionTables.Read(path).Needed;

        Assert.That(needed.Select(n => (n.File, n.Version, n.Flags)), Is.EqualTo(new[]
        {
            ("libstdc++.so.6", "CXXABI_1.3", (ushort)0),
            ("libstdc++.so.6", "GLIBCXX_3.4.29", (ushort)0),
            ("libstdc++.so.6", "GLIBCXX_3.4.32", (ushort)0),
            ("libc.so.6", "GLIBC_2.2.5", (ushort)0),
            ("libc.so.6", "GLIBC_2.34", VersionNeed.WeakFlag),
        }));
        Assert.That(needed.Select(n => n.IsWeak), Is.EqualTo(new[] { false, false, false, false, true }));
    }

    [Test]
    public void Each_needed_entry_points_at_its_own_vna_flags_field()
    {
        byte[] elf = ElfFixture.TorchSharpLike().Build();

        var needed = ElfVersionTables.Parse(elf, "fixture").Needed;

        Assert.That(needed, Has.Count.EqualTo(5));
        foreach (var need in needed)
        {
            // Elf64_Vernaux: vna_hash at -4, vna_flags at +0 (FlagsOffset), vna_other at +2, vna_name at +4.
            uint hash = BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)need.FlagsOffset - 4));
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan((int)need.FlagsOffset));
            Assert.That(hash, Is.EqualTo(ElfFixture.ElfHash(need.Version)), need.Version);
            Assert.That(flags, Is.EqualTo(need.Flags), need.Version);
        }
        Assert.That(needed.Select(n => n.FlagsOffset), Is.Unique);
    }

    [Test]
    public void Reads_defined_versions_with_the_base_entry_first()
    {
        string path = ElfFixture.LibStdCxxLike().WriteTo(temp.File("libstdc++.so.6"));

        var tables = ElfVersionTables.Read(path);

        Assert.That(tables.Defined, Is.EqualTo(new[] { "libstdc++.so.6", "GLIBCXX_3.4", "GLIBCXX_3.4.29", "GLIBCXX_3.4.30", "CXXABI_1.3" }));
        Assert.That(tables.Needed.Select(n => n.Version), Is.EqualTo(new[] { "GLIBC_2.2.5", "GLIBC_2.34" }));
    }

    [Test]
    public void A_library_without_a_verdef_section_defines_nothing()
    {
        var tables = ElfVersionTables.Parse(ElfFixture.TorchSharpLike().Build(), "fixture");

        Assert.That(tables.Defined, Is.Empty);
    }

    [Test]
    public void A_library_with_an_empty_verneed_section_needs_nothing()
    {
        var tables = ElfVersionTables.Parse(new ElfFixture().Build(), "fixture");

        Assert.That(tables.Needed, Is.Empty);
        Assert.That(tables.Defined, Is.Empty);
    }

    [Test]
    public void A_file_that_is_not_elf_is_rejected_naming_the_file()
    {
        string path = temp.File("libLibTorchSharp.so");
        File.WriteAllText(path, "#!/bin/sh\necho this is a linker script, not an ELF file, but it is long enough to pass a size check\n");

        AssertRejected(path, "not an ELF file");
    }

    [Test]
    public void A_file_shorter_than_an_elf_header_is_rejected_naming_the_file()
    {
        string path = temp.File("short.so");
        File.WriteAllBytes(path, ElfFixture.TorchSharpLike().Build()[..40]);

        AssertRejected(path, "not an ELF file");
    }

    [Test]
    public void A_32_bit_elf_file_is_rejected_naming_the_file()
    {
        byte[] elf = ElfFixture.TorchSharpLike().Build();
        elf[4] = 1; // EI_CLASS: ELFCLASS32
        string path = temp.File("lib32.so");
        File.WriteAllBytes(path, elf);

        AssertRejected(path, "64-bit");
    }

    [Test]
    public void A_big_endian_elf_file_is_rejected_naming_the_file()
    {
        byte[] elf = ElfFixture.TorchSharpLike().Build();
        elf[5] = 2; // EI_DATA: ELFDATA2MSB
        string path = temp.File("libbe.so");
        File.WriteAllBytes(path, elf);

        AssertRejected(path, "little-endian");
    }

    [Test]
    public void A_section_offset_beyond_the_end_of_the_file_is_rejected_naming_the_file()
    {
        byte[] elf = ElfFixture.TorchSharpLike().Build();
        long verneedHeader = ElfFixture.SectionHeaderOffset(elf, ElfFixture.VerneedIndex);
        ElfFixture.W64(elf, verneedHeader + 0x18, (ulong)elf.Length + 4096); // sh_offset
        string path = temp.File("beyond.so");
        File.WriteAllBytes(path, elf);

        AssertRejected(path, "truncated");
    }

    [Test]
    public void A_section_offset_near_the_largest_long_is_rejected_without_overflowing()
    {
        byte[] elf = ElfFixture.TorchSharpLike().Build();
        long verneedHeader = ElfFixture.SectionHeaderOffset(elf, ElfFixture.VerneedIndex);
        ElfFixture.W64(elf, verneedHeader + 0x18, (ulong)(long.MaxValue - 3)); // sh_offset
        string path = temp.File("huge.so");
        File.WriteAllBytes(path, elf);

        AssertRejected(path, "truncated");
    }

    [Test]
    public void A_section_header_table_beyond_the_end_of_the_file_is_rejected_naming_the_file()
    {
        byte[] elf = ElfFixture.TorchSharpLike().Build();
        ElfFixture.W64(elf, 0x28, (ulong)elf.Length); // e_shoff
        string path = temp.File("noshdrs.so");
        File.WriteAllBytes(path, elf);

        AssertRejected(path, "truncated");
    }

    [Test]
    public void A_file_cut_off_inside_its_section_header_table_is_rejected_naming_the_file()
    {
        byte[] elf = ElfFixture.TorchSharpLike().Build();
        string path = temp.File("cut.so");
        File.WriteAllBytes(path, elf[..^(ElfFixture.ShdrSize + 8)]);

        AssertRejected(path, "truncated");
    }

    [Test]
    public void The_system_libstdcxx_defines_GLIBCXX_3_4_30_and_earlier()
    {
        if (!File.Exists(SystemLibStdCxx)) Assert.Ignore($"{SystemLibStdCxx} does not exist on this machine");

        var defined = ElfVersionTables.Read(SystemLibStdCxx).Defined;

        Assert.That(defined, Does.Contain("GLIBCXX_3.4.30"));
        Assert.That(defined, Does.Contain("GLIBCXX_3.4"));
        Assert.That(defined, Does.Contain("CXXABI_1.3"));
    }

    static void AssertRejected(string path, string reason) =>
        Assert.That(() => ElfVersionTables.Read(path),
            Throws.TypeOf<InvalidDataException>()
                .With.Message.Contains(path)
                .And.Message.Contains(reason));
}
