using System.Buffers.Binary;
using System.Text;

namespace Ppcls.NativeFix;

/// <summary>One entry of a library's version-needed table (.gnu.version_r), e.g. GLIBCXX_3.4.32 from libstdc++.so.6.</summary>
/// <param name="File">The library the version is needed from.</param>
/// <param name="Version">The version name.</param>
/// <param name="FlagsOffset">File offset of the entry's 16-bit vna_flags field.</param>
/// <param name="Flags">Current vna_flags (bit 0x2 is VER_FLG_WEAK).</param>
public sealed record VersionNeed(string File, string Version, long FlagsOffset, ushort Flags)
{
    public const ushort WeakFlag = 0x2;
    public bool IsWeak => (Flags & WeakFlag) != 0;
}

/// <summary>
/// Reads the GNU symbol-versioning tables of a 64-bit little-endian ELF file: the
/// versions it needs (SHT_GNU_verneed) and the versions it defines (SHT_GNU_verdef).
/// Only what the GLIBCXX fix needs; anything else in the file is left unread.
/// </summary>
public sealed class ElfVersionTables
{
    const uint ShtGnuVerdef = 0x6ffffffd;
    const uint ShtGnuVerneed = 0x6ffffffe;

    public IReadOnlyList<VersionNeed> Needed { get; }
    public IReadOnlyList<string> Defined { get; }

    ElfVersionTables(IReadOnlyList<VersionNeed> needed, IReadOnlyList<string> defined)
    {
        Needed = needed;
        Defined = defined;
    }

    public static ElfVersionTables Read(string path) => Parse(File.ReadAllBytes(path), path);

    public static ElfVersionTables Parse(byte[] elf, string nameForErrors)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException($"{nameForErrors}: not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"{nameForErrors}: only 64-bit little-endian ELF files are supported");

        long shoff = (long)U64(elf, 0x28, nameForErrors);
        int shentsize = U16(elf, 0x3A, nameForErrors);
        int shnum = U16(elf, 0x3C, nameForErrors);
        var needed = new List<VersionNeed>();
        var defined = new List<string>();
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            uint type = U32(elf, sh + 0x04, nameForErrors);
            if (type != ShtGnuVerneed && type != ShtGnuVerdef) continue;
            long offset = (long)U64(elf, sh + 0x18, nameForErrors);
            uint link = U32(elf, sh + 0x28, nameForErrors);
            uint count = U32(elf, sh + 0x2C, nameForErrors);
            long strtab = (long)U64(elf, shoff + link * (long)shentsize + 0x18, nameForErrors);
            if (type == ShtGnuVerneed) ReadNeeded(elf, offset, count, strtab, needed, nameForErrors);
            else ReadDefined(elf, offset, count, strtab, defined, nameForErrors);
        }
        return new ElfVersionTables(needed, defined);
    }

    // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
    // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
    static void ReadNeeded(byte[] elf, long at, uint count, long strtab, List<VersionNeed> into, string name)
    {
        for (uint n = 0; n < count; n++)
        {
            int auxCount = U16(elf, at + 2, name);
            string file = Str(elf, strtab + U32(elf, at + 4, name), name);
            long aux = at + U32(elf, at + 8, name);
            for (int a = 0; a < auxCount; a++)
            {
                ushort flags = U16(elf, aux + 4, name);
                string version = Str(elf, strtab + U32(elf, aux + 8, name), name);
                into.Add(new VersionNeed(file, version, aux + 4, flags));
                aux += U32(elf, aux + 12, name);
            }
            uint next = U32(elf, at + 12, name);
            if (next == 0) break;
            at += next;
        }
    }

    // Elf64_Verdef: vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16, vd_hash u32, vd_aux u32, vd_next u32.
    // Elf64_Verdaux: vda_name u32, vda_next u32. The first aux entry names the version.
    static void ReadDefined(byte[] elf, long at, uint count, long strtab, List<string> into, string name)
    {
        for (uint n = 0; n < count; n++)
        {
            long aux = at + U32(elf, at + 12, name);
            into.Add(Str(elf, strtab + U32(elf, aux, name), name));
            uint next = U32(elf, at + 16, name);
            if (next == 0) break;
            at += next;
        }
    }

    static ReadOnlySpan<byte> Slice(byte[] elf, long at, int length, string name) =>
        at >= 0 && at <= elf.Length - length
            ? elf.AsSpan((int)at, length)
            : throw new InvalidDataException($"{name}: truncated ELF file (offset {at} out of range)");

    static ushort U16(byte[] e, long at, string n) => BinaryPrimitives.ReadUInt16LittleEndian(Slice(e, at, 2, n));
    static uint U32(byte[] e, long at, string n) => BinaryPrimitives.ReadUInt32LittleEndian(Slice(e, at, 4, n));
    static ulong U64(byte[] e, long at, string n) => BinaryPrimitives.ReadUInt64LittleEndian(Slice(e, at, 8, n));

    static string Str(byte[] elf, long at, string name)
    {
        Slice(elf, at, 1, name);
        int end = Array.IndexOf(elf, (byte)0, (int)at);
        if (end < 0) throw new InvalidDataException($"{name}: unterminated string at offset {at}");
        return Encoding.ASCII.GetString(elf, (int)at, end - (int)at);
    }
}
