using System.Buffers.Binary;
using System.Text;
using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint.Pickle;

/// <summary>
/// Writes a dict from name to numpy array as pickle protocol 4, the way numpy pickles arrays
/// (`_reconstruct` then BUILD with shape, dtype and raw little-endian bytes), so that Python's
/// `pickle.load` and `paddle.load` read it back as a dict of ndarrays.
/// </summary>
public static class NumpyDictPickler
{
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> arrays)
    {
        var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write((byte)0x80); w.Write((byte)4); // PROTO 4
        w.Write((byte)'}'); // EMPTY_DICT
        foreach (var (name, tensor) in arrays)
        {
            w.Write((byte)'(');
            String(w, name);
            Array(w, tensor);
            w.Write((byte)'u'); // SETITEMS, one pair at a time keeps the stack small
        }
        w.Write((byte)'.');
        w.Flush();
    }

    static void Array(BinaryWriter w, Tensor tensor)
    {
        string code = NumpyDType.CodeOf(tensor.dtype);
        Global(w, "numpy.core.multiarray", "_reconstruct");
        Global(w, "numpy", "ndarray");
        w.Write((byte)'K'); w.Write((byte)0); w.Write((byte)0x85); // (0,)
        w.Write((byte)'C'); w.Write((byte)1); w.Write((byte)'b'); // b'b'
        w.Write((byte)0x87); w.Write((byte)'R'); // TUPLE3, REDUCE
        w.Write((byte)'(');
        Int(w, 1);
        w.Write((byte)'(');
        foreach (long d in tensor.shape) Int(w, d);
        w.Write((byte)'t');
        Global(w, "numpy", "dtype");
        String(w, code);
        w.Write((byte)0x89); w.Write((byte)0x88); w.Write((byte)0x87); w.Write((byte)'R'); // (code, False, True), REDUCE
        w.Write((byte)'(');
        Int(w, 3);
        String(w, NumpyDType.ByteOrderOf(code).ToString());
        w.Write((byte)'N'); w.Write((byte)'N'); w.Write((byte)'N');
        Int(w, -1); Int(w, -1); Int(w, 0);
        w.Write((byte)'t'); w.Write((byte)'b'); // dtype state, BUILD
        w.Write((byte)0x89); // not Fortran order
        using var cpu = tensor.detach().cpu().contiguous();
        var bytes = cpu.bytes;
        w.Write((byte)0x8e); w.Write((ulong)bytes.Length); // BINBYTES8
        w.Write(bytes);
        w.Write((byte)'t'); w.Write((byte)'b'); // array state, BUILD
    }

    static void Global(BinaryWriter w, string module, string name)
    {
        w.Write((byte)'c');
        w.Write(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));
    }

    static void String(BinaryWriter w, string s)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(s);
        w.Write((byte)'X'); // BINUNICODE
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)utf8.Length);
        w.Write(length);
        w.Write(utf8);
    }

    static void Int(BinaryWriter w, long v)
    {
        if (v is >= int.MinValue and <= int.MaxValue) { w.Write((byte)'J'); w.Write((int)v); return; }
        w.Write((byte)0x8a); w.Write((byte)8); w.Write(v); // LONG1
    }
}
