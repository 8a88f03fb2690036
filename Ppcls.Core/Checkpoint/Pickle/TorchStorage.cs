using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint.Pickle;

/// <summary>
/// One storage of a PyTorch zip checkpoint, named by the persistent id
/// `('storage', torch.FloatStorage, key, location, numel)`; its bytes are the archive's `data/key`.
/// </summary>
public sealed record TorchStorage(ScalarType DType, string Key, long Count, byte[] Bytes)
{
    static readonly Dictionary<string, ScalarType> Types = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = ScalarType.Float32, ["HalfStorage"] = ScalarType.Float16, ["DoubleStorage"] = ScalarType.Float64,
        ["BFloat16Storage"] = ScalarType.BFloat16, ["LongStorage"] = ScalarType.Int64, ["IntStorage"] = ScalarType.Int32,
        ["ShortStorage"] = ScalarType.Int16, ["CharStorage"] = ScalarType.Int8, ["ByteStorage"] = ScalarType.Byte,
        ["BoolStorage"] = ScalarType.Bool,
    };

    public static IEnumerable<string> TypeNames => Types.Keys;

    /// <summary>Reads a persistent id; <paramref name="readRecord"/> returns the bytes of `data/key`.</summary>
    public static TorchStorage FromPersistentId(object? id, Func<string, byte[]> readRecord)
    {
        if (id is not object?[] { Length: 5 } items || items[0] is not "storage" || items[1] is not PickleGlobal type
            || items[2] is not string key || items[4] is not long count)
            throw new PickleException("unexpected persistent id (expected a tensor storage)");
        if (!Types.TryGetValue(type.Name, out var dtype)) throw new PickleException($"storage type {type.FullName} is not supported");
        var bytes = readRecord(key);
        long needed = checked(count * NumpyArray.ElementSize(dtype));
        if (bytes.LongLength < needed)
            throw new PickleException($"storage {key}: {count} elements of {type.Name} need {needed} bytes, the archive holds {bytes.LongLength}");
        return new TorchStorage(dtype, key, count, bytes);
    }
}

/// <summary>`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])` and `_rebuild_parameter(data, ...)`.</summary>
public static class TorchTensorRebuild
{
    public static IPickleCallable Tensor { get; } = new RebuildTensor();
    public static IPickleCallable Parameter { get; } = new RebuildParameter();

    sealed class RebuildTensor : IPickleCallable
    {
        public object Call(object?[] args)
        {
            if (args.Length < 4 || args[0] is not TorchStorage storage || args[1] is not long offset
                || args[2] is not object?[] size || args[3] is not object?[] stride || size.Length != stride.Length)
                throw new PickleException("_rebuild_tensor_v2: unexpected arguments");
            long[] shape = size.Select(Dim).ToArray();
            long[] strides = stride.Select(Dim).ToArray();
            long last = offset;
            if (shape.All(d => d > 0)) for (int i = 0; i < shape.Length; i++) last += (shape[i] - 1) * strides[i];
            if (offset < 0 || (shape.All(d => d > 0) && last >= storage.Count))
                throw new PickleException($"storage {storage.Key}: a tensor of shape [{string.Join(",", shape)}] at offset {offset} reaches past its {storage.Count} elements");
            using var flat = empty([storage.Count], storage.DType);
            if (storage.Count > 0) storage.Bytes.AsSpan(0, (int)(storage.Count * NumpyArray.ElementSize(storage.DType))).CopyTo(flat.bytes);
            using var view = flat.as_strided(shape, strides, offset);
            return view.contiguous().clone();
        }

        static long Dim(object? d) => d is long v && v >= 0 ? v : throw new PickleException("_rebuild_tensor_v2: a size or stride is not a non-negative integer");
    }

    sealed class RebuildParameter : IPickleCallable
    {
        public object Call(object?[] args) => args is [TorchSharp.torch.Tensor data, ..]
            ? data
            : throw new PickleException("_rebuild_parameter: expected a tensor");
    }
}
