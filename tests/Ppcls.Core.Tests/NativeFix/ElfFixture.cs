using System.Buffers.Binary;
using System.Text;

namespace Ppcls.Core.Tests.NativeFix;

/// <summary>
/// Builds a minimal, valid 64-bit little-endian ELF shared object that carries only GNU
/// symbol-versioning tables, laid out as:
/// Elf64_Ehdr | .dynstr | .gnu.version_r | [.gnu.version_d] | .shstrtab | section header table.
/// Enough for readelf -V and for <see cref="Ppcls.NativeFix.ElfVersionTables"/>; no code, no segments.
/// </summary>
public sealed class ElfFixture
{
    public const int EhdrSize = 64;
    public const int ShdrSize = 64;
    public const uint ShtNull = 0, ShtStrtab = 3, ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe;
    public const ushort VerFlgBase = 0x1;

    /// <summary>Section indices; .gnu.version_d exists only when the fixture defines versions.</summary>
    public const int DynstrIndex = 1, VerneedIndex = 2;

    readonly List<(string File, List<(string Version, ushort Flags)> Versions)> needed = [];
    readonly List<string> defined = [];
    string? soname;

    /// <summary>One Verneed entry for <paramref name="file"/>, one Vernaux per version (flags 0).</summary>
    public ElfFixture Needs(string file, params string[] versions) =>
        NeedsWithFlags(file, versions.Select(v => (v, (ushort)0)).ToArray());

    /// <summary>One Verneed entry for <paramref name="file"/> with explicit vna_flags per version.</summary>
    public ElfFixture NeedsWithFlags(string file, params (string Version, ushort Flags)[] versions)
    {
        needed.Add((file, versions.ToList()));
        return this;
    }

    /// <summary>Verdef entries; with a soname, a VER_FLG_BASE entry naming it comes first (as in real libraries).</summary>
    public ElfFixture Defines(string? baseName, params string[] versions)
    {
        soname = baseName;
        defined.AddRange(versions);
        return this;
    }

    /// <summary>Like TorchSharp's libLibTorchSharp.so: libstdc++ (incl. GLIBCXX_3.4.32) and libc needs.</summary>
    public static ElfFixture TorchSharpLike() => new ElfFixture()
        .Needs("libstdc++.so.6", "CXXABI_1.3", "GLIBCXX_3.4.29", "GLIBCXX_3.4.32")
        .Needs("libc.so.6", "GLIBC_2.2.5", "GLIBC_2.34");

    /// <summary>Like Debian 12's libstdc++.so.6 (GCC 12): defines up to GLIBCXX_3.4.30, needs libc.</summary>
    public static ElfFixture LibStdCxxLike(string lastGlibcxx = "GLIBCXX_3.4.30")
    {
        var versions = new List<string> { "GLIBCXX_3.4", "GLIBCXX_3.4.29" };
        if (lastGlibcxx != "GLIBCXX_3.4.29") versions.Add(lastGlibcxx);
        versions.Add("CXXABI_1.3");
        return new ElfFixture()
            .Defines("libstdc++.so.6", versions.ToArray())
            .Needs("libc.so.6", "GLIBC_2.2.5", "GLIBC_2.34");
    }

    public string WriteTo(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllBytes(path, Build());
        return path;
    }

    public byte[] Build()
    {
        // .dynstr: index 0 is the empty string; each name stored once.
        var dynstr = new StringTable();
        foreach (var (file, versions) in needed)
        {
            dynstr.Add(file);
            foreach (var (v, _) in versions) dynstr.Add(v);
        }
        if (soname is not null) dynstr.Add(soname);
        foreach (var v in defined) dynstr.Add(v);

        bool hasVerdef = soname is not null || defined.Count > 0;
        ushort nextIndex = 1; // version index 1 is VER_NDX_GLOBAL; defined versions, then needed ones, count up from there.

        // .gnu.version_d: Elf64_Verdef (20 bytes) + one Elf64_Verdaux (8 bytes) each.
        var verdefNames = new List<string>();
        if (soname is not null) verdefNames.Add(soname);
        verdefNames.AddRange(defined);
        var verdef = new byte[verdefNames.Count * 28];
        for (int i = 0; i < verdefNames.Count; i++)
        {
            int at = i * 28;
            bool isBase = soname is not null && i == 0;
            W16(verdef, at + 0, 1);                                   // vd_version
            W16(verdef, at + 2, isBase ? VerFlgBase : (ushort)0);     // vd_flags
            W16(verdef, at + 4, isBase ? (ushort)1 : ++nextIndex);    // vd_ndx
            W16(verdef, at + 6, 1);                                   // vd_cnt
            W32(verdef, at + 8, ElfHash(verdefNames[i]));             // vd_hash
            W32(verdef, at + 12, 20);                                 // vd_aux
            W32(verdef, at + 16, i + 1 < verdefNames.Count ? 28u : 0u); // vd_next
            W32(verdef, at + 20, dynstr.Add(verdefNames[i]));         // vda_name
            W32(verdef, at + 24, 0);                                  // vda_next
        }

        // .gnu.version_r: Elf64_Verneed (16 bytes) followed by its Elf64_Vernaux entries (16 bytes each).
        var verneed = new List<byte>();
        for (int n = 0; n < needed.Count; n++)
        {
            var (file, versions) = needed[n];
            var entry = new byte[16 + 16 * versions.Count];
            W16(entry, 0, 1);                                         // vn_version
            W16(entry, 2, (ushort)versions.Count);                    // vn_cnt
            W32(entry, 4, dynstr.Add(file));                          // vn_file
            W32(entry, 8, versions.Count > 0 ? 16u : 0u);             // vn_aux
            W32(entry, 12, n + 1 < needed.Count ? (uint)entry.Length : 0u); // vn_next
            for (int a = 0; a < versions.Count; a++)
            {
                int at = 16 + 16 * a;
                W32(entry, at + 0, ElfHash(versions[a].Version));     // vna_hash
                W16(entry, at + 4, versions[a].Flags);                // vna_flags
                W16(entry, at + 6, ++nextIndex);                      // vna_other
                W32(entry, at + 8, dynstr.Add(versions[a].Version));  // vna_name
                W32(entry, at + 12, a + 1 < versions.Count ? 16u : 0u); // vna_next
            }
            verneed.AddRange(entry);
        }

        var shstr = new StringTable();
        uint nDynstr = shstr.Add(".dynstr"), nVerneed = shstr.Add(".gnu.version_r");
        uint nVerdef = shstr.Add(".gnu.version_d"), nShstrtab = shstr.Add(".shstrtab");

        var sections = new List<Section>
        {
            new(0, ShtNull, [], 0, 0, 0, 0),
            new(nDynstr, ShtStrtab, dynstr.Bytes(), 0, 0, 1, 0x2 /* SHF_ALLOC */),
            new(nVerneed, ShtGnuVerneed, verneed.ToArray(), DynstrIndex, (uint)needed.Count, 8, 0x2),
        };
        if (hasVerdef) sections.Add(new(nVerdef, ShtGnuVerdef, verdef, DynstrIndex, (uint)verdefNames.Count, 8, 0x2));
        sections.Add(new(nShstrtab, ShtStrtab, shstr.Bytes(), 0, 0, 1, 0));

        // Lay out section contents after the ELF header, then the section header table.
        var offsets = new long[sections.Count];
        long pos = EhdrSize;
        for (int i = 1; i < sections.Count; i++)
        {
            pos = Align(pos, Math.Max(1, (long)sections[i].Align));
            offsets[i] = pos;
            pos += sections[i].Data.Length;
        }
        long shoff = Align(pos, 8);
        var elf = new byte[shoff + ShdrSize * sections.Count];

        elf[0] = 0x7f; elf[1] = (byte)'E'; elf[2] = (byte)'L'; elf[3] = (byte)'F';
        elf[4] = 2;    // EI_CLASS: ELFCLASS64
        elf[5] = 1;    // EI_DATA: ELFDATA2LSB
        elf[6] = 1;    // EI_VERSION: EV_CURRENT
        W16(elf, 0x10, 3);                          // e_type: ET_DYN
        W16(elf, 0x12, 0x3E);                       // e_machine: EM_X86_64
        W32(elf, 0x14, 1);                          // e_version
        W64(elf, 0x28, (ulong)shoff);               // e_shoff
        W16(elf, 0x34, EhdrSize);                   // e_ehsize
        W16(elf, 0x36, 56);                         // e_phentsize (no program headers: e_phnum 0)
        W16(elf, 0x3A, ShdrSize);                   // e_shentsize
        W16(elf, 0x3C, (ushort)sections.Count);     // e_shnum
        W16(elf, 0x3E, (ushort)(sections.Count - 1)); // e_shstrndx: .shstrtab is last

        for (int i = 0; i < sections.Count; i++)
        {
            var s = sections[i];
            s.Data.CopyTo(elf, offsets[i]);
            long sh = shoff + (long)i * ShdrSize;
            W32(elf, sh + 0x00, s.Name);
            W32(elf, sh + 0x04, s.Type);
            W64(elf, sh + 0x08, s.Flags);
            W64(elf, sh + 0x18, i == 0 ? 0 : (ulong)offsets[i]);
            W64(elf, sh + 0x20, (ulong)s.Data.Length);
            W32(elf, sh + 0x28, s.Link);
            W32(elf, sh + 0x2C, s.Info);
            W64(elf, sh + 0x30, s.Align);
        }
        return elf;
    }

    /// <summary>File offset of section header <paramref name="index"/> in a built fixture.</summary>
    public static long SectionHeaderOffset(byte[] elf, int index) =>
        (long)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28)) + (long)index * ShdrSize;

    /// <summary>The SysV ELF hash stored in vna_hash / vd_hash.</summary>
    public static uint ElfHash(string name)
    {
        uint h = 0;
        foreach (byte c in Encoding.ASCII.GetBytes(name))
        {
            h = (h << 4) + c;
            uint g = h & 0xf0000000;
            if (g != 0) h ^= g >> 24;
            h &= ~g;
        }
        return h;
    }

    public static void W16(byte[] b, long at, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan((int)at), v);
    public static void W32(byte[] b, long at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)at), v);
    public static void W64(byte[] b, long at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)at), v);
    static void W32(byte[] b, long at, int v) => W32(b, at, (uint)v);

    static long Align(long value, long alignment) => (value + alignment - 1) / alignment * alignment;

    sealed record Section(uint Name, uint Type, byte[] Data, uint Link, uint Info, ulong Align, ulong Flags);

    sealed class StringTable
    {
        readonly List<byte> bytes = [0];
        readonly Dictionary<string, uint> index = new() { [""] = 0 };

        public uint Add(string s)
        {
            if (index.TryGetValue(s, out uint at)) return at;
            at = (uint)bytes.Count;
            bytes.AddRange(Encoding.ASCII.GetBytes(s));
            bytes.Add(0);
            index[s] = at;
            return at;
        }

        public byte[] Bytes() => bytes.ToArray();
    }
}

/// <summary>A fresh directory under the system temp folder, deleted (with its contents) on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ppcls-nativefix-").FullName;

    public string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
