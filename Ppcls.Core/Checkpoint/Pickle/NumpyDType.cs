using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint.Pickle;

/// <summary>
/// A numpy dtype as pickled: `numpy.dtype('f4', False, True)` then a BUILD with its state
/// tuple `(3, '&lt;', None, None, None, -1, -1, 0)`, whose second item is the byte order.
/// Only little-endian plain numeric types are read.
/// </summary>
public sealed class NumpyDType : IPickleBuildable
{
    static readonly Dictionary<string, ScalarType> Types = new(StringComparer.Ordinal)
    {
        ["f4"] = ScalarType.Float32, ["f2"] = ScalarType.Float16, ["f8"] = ScalarType.Float64,
        ["i8"] = ScalarType.Int64, ["i4"] = ScalarType.Int32, ["i2"] = ScalarType.Int16,
        ["i1"] = ScalarType.Int8, ["u1"] = ScalarType.Byte, ["b1"] = ScalarType.Bool,
    };

    public string Code { get; }
    public ScalarType ScalarType { get; }
    public char ByteOrder { get; private set; } = '<';

    public NumpyDType(string code)
    {
        Code = code;
        ScalarType = Types.TryGetValue(code, out var type) ? type
            : throw new PickleException($"numpy dtype '{code}' is not supported (only {string.Join(", ", Types.Keys)})");
    }

    /// <summary>numpy's short code for a tensor dtype (the inverse of the table above).</summary>
    public static string CodeOf(ScalarType type) =>
        Types.FirstOrDefault(kv => kv.Value == type).Key ?? throw new ArgumentException($"dtype {type} has no numpy equivalent here");

    /// <summary>The byte-order character numpy pickles for <paramref name="code"/>: '|' where it does not apply.</summary>
    public static char ByteOrderOf(string code) => code is "u1" or "i1" or "b1" ? '|' : '<';

    public void SetState(object? state)
    {
        if (state is not object?[] { Length: >= 2 } items || items[1] is not string order || order.Length != 1)
            throw new PickleException($"numpy dtype '{Code}': unexpected state");
        if (order == ">") throw new PickleException($"numpy dtype '{Code}' is big-endian; only little-endian arrays are read");
        ByteOrder = order[0];
    }

    public static IPickleCallable Factory { get; } = new DTypeFactory();

    sealed class DTypeFactory : IPickleCallable
    {
        public object Call(object?[] args) => args is [string code, ..]
            ? new NumpyDType(code)
            : throw new PickleException("numpy.dtype: expected a type code such as 'f4'");
    }
}
