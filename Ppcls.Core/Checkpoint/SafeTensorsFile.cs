using Ppcls.Core.IO;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each
/// tensor name to its dtype, shape and byte range, optional string metadata, then the raw
/// little-endian bytes. Portable (Python's safetensors, timm and Hugging Face read it) and
/// safe to read (no code, every range checked against the file).
/// </summary>
public static class SafeTensorsFile
{
    static readonly Dictionary<ScalarType, string> DTypeNames = new()
    {
        [ScalarType.Float32] = "F32", [ScalarType.Float64] = "F64", [ScalarType.Float16] = "F16",
        [ScalarType.BFloat16] = "BF16", [ScalarType.Int64] = "I64", [ScalarType.Int32] = "I32",
        [ScalarType.Int16] = "I16", [ScalarType.Int8] = "I8", [ScalarType.Byte] = "U8", [ScalarType.Bool] = "BOOL",
    };

    static readonly Dictionary<string, ScalarType> DTypes = DTypeNames.ToDictionary(kv => kv.Value, kv => kv.Key);

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
        var payloads = new List<Tensor>();
        long offset = 0;
        foreach (var (name, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!DTypeNames.TryGetValue(tensor.dtype, out var dtype))
                throw new ArgumentException($"tensor {name}: dtype {tensor.dtype} cannot be stored in safetensors");
            var cpu = tensor.detach().cpu().contiguous();
            long length = cpu.numel() * cpu.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(cpu.shape.Select(d => (JsonNode?)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + length)),
            };
            offset += length;
            payloads.Add(cpu);
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var payload in payloads)
            {
                stream.Write(payload.bytes);
                payload.Dispose();
            }
        });
    }

    /// <summary>Reads every tensor (on the CPU) and the metadata; any inconsistency names the file.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < 8) throw Corrupt(path, "shorter than its 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > (ulong)(file.Length - 8)) throw Corrupt(path, $"header length {headerLength} exceeds the file");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(file.AsSpan(8, (int)headerLength))?.AsObject() ?? throw Corrupt(path, "empty header");
        }
        catch (JsonException e)
        {
            throw Corrupt(path, $"header is not JSON ({e.Message})");
        }
        long dataStart = 8 + (long)headerLength;
        long dataLength = file.Length - dataStart;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node?.AsObject() ?? []) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            try
            {
                var entry = node!.AsObject();
                string dtypeName = entry["dtype"]!.GetValue<string>();
                if (!DTypes.TryGetValue(dtypeName, out var dtype)) throw Corrupt(path, $"tensor {name}: unsupported dtype {dtypeName}");
                long[] shape = entry["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                var offsets = entry["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                long begin = offsets[0], end = offsets[1];
                var tensor = empty(shape, dtype);
                long expected = tensor.numel() * tensor.ElementSize;
                if (begin < 0 || end < begin || end > dataLength || end - begin != expected)
                {
                    tensor.Dispose();
                    throw Corrupt(path, $"tensor {name}: byte range [{begin}, {end}) does not fit its shape or the file");
                }
                file.AsSpan((int)(dataStart + begin), (int)expected).CopyTo(tensor.bytes);
                tensors[name] = tensor;
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or IndexOutOfRangeException or FormatException)
            {
                throw Corrupt(path, $"tensor {name}: malformed header entry");
            }
        }
        return (tensors, metadata);
    }

    static PpclsUserException Corrupt(string path, string problem) =>
        new($"{path}: not a valid safetensors file: {problem}; re-save it or point to another checkpoint");
}
