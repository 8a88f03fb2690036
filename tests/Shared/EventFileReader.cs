using System.Buffers.Binary;
using System.Text;

namespace Ppcls.TestSupport;

/// <summary>One scalar read back from a TensorBoard event file.</summary>
public sealed record ScalarEvent(string Tag, float Value, long Step, double WallTime);

/// <summary>
/// Reads TensorBoard event files independently of the writer: TFRecord framing with both masked
/// CRC-32C checks (a bitwise CRC here, not the writer's), then Event / Summary / Value protobuf
/// fields by number. A bad length, CRC or field is an exception naming the offset.
/// </summary>
public static class EventFileReader
{
    /// <summary>The file_version of the first event and every scalar, in file order.</summary>
    public static (string? FileVersion, IReadOnlyList<ScalarEvent> Scalars) Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        string? version = null;
        var scalars = new List<ScalarEvent>();
        int at = 0;
        while (at < file.Length)
        {
            if (file.Length - at < 12) throw new InvalidDataException($"{path}@{at}: truncated record header");
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at));
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8)) != MaskedCrc(file.AsSpan(at, 8)))
                throw new InvalidDataException($"{path}@{at}: length CRC mismatch");
            int data = at + 12;
            if ((ulong)(file.Length - data) < length + 4) throw new InvalidDataException($"{path}@{at}: truncated record");
            var payload = file.AsSpan(data, (int)length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(data + (int)length)) != MaskedCrc(payload))
                throw new InvalidDataException($"{path}@{at}: data CRC mismatch");
            ReadEvent(payload.ToArray(), ref version, scalars);
            at = data + (int)length + 4;
        }
        return (version, scalars);
    }

    static void ReadEvent(byte[] e, ref string? version, List<ScalarEvent> scalars)
    {
        double wall = 0;
        long step = 0;
        var values = new List<(string Tag, float Value)>();
        foreach (var (field, wire, value, bytes) in Fields(e))
            switch (field)
            {
                case 1 when wire == 1: wall = BitConverter.UInt64BitsToDouble(value); break;
                case 2 when wire == 0: step = (long)value; break;
                case 3 when wire == 2: version = Encoding.UTF8.GetString(bytes!); break;
                case 5 when wire == 2:
                    foreach (var (f, w, _, v) in Fields(bytes!))
                        if (f == 1 && w == 2) values.Add(ReadValue(v!));
                    break;
            }
        scalars.AddRange(values.Select(v => new ScalarEvent(v.Tag, v.Value, step, wall)));
    }

    static (string, float) ReadValue(byte[] v)
    {
        string tag = "";
        float value = float.NaN;
        foreach (var (f, w, raw, bytes) in Fields(v))
        {
            if (f == 1 && w == 2) tag = Encoding.UTF8.GetString(bytes!);
            if (f == 2 && w == 5) value = BitConverter.UInt32BitsToSingle((uint)raw);
        }
        return (tag, value);
    }

    /// <summary>(field number, wire type, varint or fixed value, length-delimited bytes) for each field.</summary>
    static IEnumerable<(int Field, int Wire, ulong Value, byte[]? Bytes)> Fields(byte[] m)
    {
        int i = 0;
        while (i < m.Length)
        {
            ulong key = Varint(m, ref i);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: yield return (field, wire, Varint(m, ref i), null); break;
                case 1: yield return (field, wire, BinaryPrimitives.ReadUInt64LittleEndian(m.AsSpan(i)), null); i += 8; break;
                case 5: yield return (field, wire, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(i)), null); i += 4; break;
                case 2:
                    int n = (int)Varint(m, ref i);
                    yield return (field, wire, 0, m[i..(i + n)]);
                    i += n;
                    break;
                default: throw new InvalidDataException($"wire type {wire} at byte {i}");
            }
        }
    }

    static ulong Varint(byte[] m, ref int i)
    {
        ulong result = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = m[i++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return result;
        }
    }

    /// <summary>Bitwise CRC-32C (reflected polynomial 0x82F63B78), masked as TFRecord does.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        crc = ~crc;
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }
}
