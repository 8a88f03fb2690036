using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint.Pickle;

/// <summary>
/// A numpy ndarray as pickled: `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')`
/// makes an empty array, then BUILD sets `(version, shape, dtype, is_fortran, raw_bytes)`.
/// </summary>
public sealed class NumpyArray : IPickleBuildable
{
    public long[] Shape { get; private set; } = [];
    public NumpyDType? DType { get; private set; }
    public byte[] Data { get; private set; } = [];
    public bool FortranOrder { get; private set; }

    public void SetState(object? state)
    {
        if (state is not object?[] { Length: 5 } items || items[1] is not object?[] shape || items[2] is not NumpyDType dtype || items[3] is not bool fortran)
            throw new PickleException("numpy array: unexpected state (expected version, shape, dtype, order, data)");
        Set(shape, dtype, fortran, items[4]);
    }

    void Set(object?[] shape, NumpyDType dtype, bool fortran, object? data)
    {
        Shape = shape.Select(d => d is long v && v >= 0 ? v : throw new PickleException("numpy array: a dimension is not a non-negative integer")).ToArray();
        DType = dtype;
        FortranOrder = fortran;
        Data = data as byte[] ?? throw new PickleException("numpy array: the data is not raw bytes (object arrays are not read)");
        long count = Shape.Aggregate(1L, (a, b) => checked(a * b));
        long expected = checked(count * ElementSize(dtype.ScalarType));
        if (Data.LongLength != expected)
            throw new PickleException($"numpy array: shape [{string.Join(",", Shape)}] of {dtype.Code} needs {expected} bytes, the pickle holds {Data.LongLength}");
    }

    /// <summary>The array as a CPU tensor of the same dtype and shape.</summary>
    public Tensor ToTensor()
    {
        var dtype = DType ?? throw new PickleException("numpy array: never given its state");
        // A Fortran-ordered array's bytes are its transpose's C-order bytes.
        var shape = FortranOrder ? Shape.Reverse().ToArray() : Shape;
        var tensor = empty(shape, dtype.ScalarType);
        if (Data.Length > 0) Data.CopyTo(tensor.bytes);
        if (!FortranOrder || Shape.Length < 2) return tensor;
        var permuted = tensor.permute(Enumerable.Range(0, Shape.Length).Reverse().Select(i => (long)i).ToArray()).contiguous();
        tensor.Dispose();
        return permuted;
    }

    public static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    /// <summary>`_reconstruct(numpy.ndarray, (0,), b'b')`: the empty array that BUILD fills.</summary>
    public static IPickleCallable Reconstruct { get; } = new ReconstructCall();

    /// <summary>Protocol 5: `_frombuffer(buffer, dtype, shape, order)` with the bytes in-band.</summary>
    public static IPickleCallable FromBuffer { get; } = new FromBufferCall();

    sealed class FromBufferCall : IPickleCallable
    {
        public object Call(object?[] args)
        {
            if (args is not [byte[] data, NumpyDType dtype, object?[] shape, string order])
                throw new PickleException("numpy _frombuffer: expected (bytes, dtype, shape, order)");
            var array = new NumpyArray();
            array.Set(shape, dtype, order == "F", data);
            return array;
        }
    }

    sealed class ReconstructCall : IPickleCallable
    {
        public object Call(object?[] args) => args is [PickleGlobal { Name: "ndarray" }, ..]
            ? new NumpyArray()
            : throw new PickleException("numpy _reconstruct: only numpy.ndarray is reconstructed");
    }
}
