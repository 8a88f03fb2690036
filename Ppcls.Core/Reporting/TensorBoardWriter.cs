using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Ppcls.Core.Reporting;

/// <summary>
/// Writes TensorBoard scalars (`Global.use_tensorboard`): an event file
/// `events.out.tfevents.&lt;unix time&gt;.&lt;host&gt;.&lt;pid&gt;` of TFRecord-framed `Event` protobuf
/// messages, encoded by field number (Event: 1 wall_time, 2 step, 3 file_version, 5 summary;
/// Summary: 1 value; Summary.Value: 1 tag, 2 simple_value). Each call is flushed, so
/// TensorBoard shows a run while it trains; a resumed run adds a new file in the same folder.
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    readonly FileStream _file;

    TensorBoardWriter(FileStream file)
    {
        _file = file;
        WriteEvent(new ProtoBuffer().Double(1, WallTime()).String(3, "brain.Event:2"));
    }

    /// <summary>The event file being written.</summary>
    public string FilePath => _file.Name;

    /// <summary>Opens a new event file in <paramref name="directory"/> (created if missing).</summary>
    public static TensorBoardWriter Create(string directory)
    {
        Directory.CreateDirectory(directory);
        string stem = string.Create(CultureInfo.InvariantCulture,
            $"events.out.tfevents.{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Environment.MachineName}.{Environment.ProcessId}");
        for (int n = 0; ; n++)
        {
            string path = Path.Combine(directory, n == 0 ? stem : $"{stem}.{n}");
            try
            {
                return new TensorBoardWriter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read));
            }
            catch (IOException) when (File.Exists(path) && n < 100)
            {
                // Another writer in this process and second: take the next suffix.
            }
        }
    }

    public void AddScalar(string tag, double value, long step) => AddScalars([new(tag, value)], step);

    /// <summary>Writes one event holding every (tag, value) at <paramref name="step"/>.</summary>
    public void AddScalars(IEnumerable<KeyValuePair<string, double>> values, long step)
    {
        var summary = new ProtoBuffer();
        foreach (var (tag, value) in values)
            summary.Message(1, new ProtoBuffer().String(1, tag).Float(2, (float)value));
        WriteEvent(new ProtoBuffer().Double(1, WallTime()).Varint(2, (ulong)step).Message(5, summary));
    }

    public void Dispose() => _file.Dispose();

    void WriteEvent(ProtoBuffer e)
    {
        TfRecord.Write(_file, e.Bytes);
        _file.Flush();
    }

    static double WallTime() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>The few protobuf encodings an Event needs.</summary>
    sealed class ProtoBuffer
    {
        readonly MemoryStream _bytes = new();

        public ReadOnlySpan<byte> Bytes => _bytes.GetBuffer().AsSpan(0, (int)_bytes.Length);

        public ProtoBuffer Varint(int field, ulong value) { Key(field, 0); Raw(value); return this; }

        public ProtoBuffer Double(int field, double value)
        {
            Key(field, 1);
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(b, value);
            _bytes.Write(b);
            return this;
        }

        public ProtoBuffer Float(int field, float value)
        {
            Key(field, 5);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(b, value);
            _bytes.Write(b);
            return this;
        }

        public ProtoBuffer String(int field, string value) => LengthDelimited(field, Encoding.UTF8.GetBytes(value));

        public ProtoBuffer Message(int field, ProtoBuffer message) => LengthDelimited(field, message.Bytes);

        ProtoBuffer LengthDelimited(int field, ReadOnlySpan<byte> value)
        {
            Key(field, 2);
            Raw((ulong)value.Length);
            _bytes.Write(value);
            return this;
        }

        void Key(int field, int wireType) => Raw((ulong)(field << 3 | wireType));

        void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.WriteByte((byte)value);
        }
    }
}
