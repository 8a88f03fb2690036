using System.Buffers.Binary;
using System.Text;

namespace Ppcls.Core.Checkpoint.Pickle;

/// <summary>
/// A minimal pickle reader (protocols 2 to 5 as written for state dicts) that builds only what an
/// allow-list of globals permits: no arbitrary object is ever constructed. Dicts become
/// <see cref="Dictionary{TKey,TValue}"/> (insertion order kept), tuples <c>object?[]</c>, lists
/// <see cref="List{T}"/>, ints <c>long</c>. Any other opcode or global is refused by name, and
/// every length is checked against the bytes that remain.
/// </summary>
public sealed class RestrictedUnpickler
{
    readonly byte[] _data;
    readonly IReadOnlyDictionary<string, IPickleCallable> _globals;
    readonly Func<object?, object>? _persistentLoad;
    readonly List<object?> _stack = [];
    readonly Stack<int> _marks = new();
    readonly Dictionary<long, object?> _memo = [];
    int _pos;

    /// <param name="globals">Allowed globals by "module.name".</param>
    /// <param name="persistentLoad">Resolves BINPERSID ids (PyTorch's tensor storages); null refuses them.</param>
    public RestrictedUnpickler(byte[] data, IReadOnlyDictionary<string, IPickleCallable> globals, Func<object?, object>? persistentLoad = null)
    {
        _data = data;
        _globals = globals;
        _persistentLoad = persistentLoad;
    }

    public object? Load()
    {
        while (true)
        {
            if (_pos >= _data.Length) throw new PickleException($"truncated: no STOP opcode before the end ({_data.Length} bytes)");
            int at = _pos;
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: ReadBytes(1); break; // PROTO
                case 0x95: ReadBytes(8); break; // FRAME: frames are only a buffering hint
                case (byte)'.': return Pop(); // STOP
                case (byte)'(': _marks.Push(_stack.Count); break; // MARK
                case (byte)'}': Push(new Dictionary<object, object?>()); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)')': Push(Array.Empty<object?>()); break;
                case (byte)'t': Push(PopMark().ToArray()); break;
                case 0x85: Push(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)'s': { var v = Pop(); var k = Pop(); SetItem(Peek(), k, v); break; }
                case (byte)'u': { var items = PopMark(); var d = Peek(); for (int i = 0; i + 1 < items.Count; i += 2) SetItem(d, items[i], items[i + 1]); break; }
                case (byte)'a': { var v = Pop(); AsList(Peek()).Add(v); break; }
                case (byte)'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; }
                case (byte)'X': Push(Utf8(ReadLength(4))); break; // BINUNICODE
                case 0x8c: Push(Utf8(ReadLength(1))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Utf8(ReadLength(8))); break; // BINUNICODE8
                case (byte)'B': Push(ReadBytes(ReadLength(4)).ToArray()); break; // BINBYTES
                case (byte)'C': Push(ReadBytes(ReadLength(1)).ToArray()); break; // SHORT_BINBYTES
                case 0x8e: Push(ReadBytes(ReadLength(8)).ToArray()); break; // BINBYTES8
                case 0x96: Push(ReadBytes(ReadLength(8)).ToArray()); break; // BYTEARRAY8 (protocol 5 in-band buffers)
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break;
                case (byte)'K': Push((long)ReadBytes(1)[0]); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break;
                case 0x8a: Push(Long1()); break;
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break;
                case (byte)'c': { string module = ReadLine(); string name = ReadLine(); Push(Global(module, name)); break; }
                case 0x93: { var name = Pop(); var module = Pop(); Push(Global(module as string ?? "?", name as string ?? "?")); break; }
                case (byte)'R': Reduce(); break;
                case (byte)'b': Build(); break;
                case (byte)'Q': Push(PersistentLoad(Pop())); break; // BINPERSID
                case (byte)'q': _memo[ReadBytes(1)[0]] = Peek(); break; // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek(); break;
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case (byte)'h': Push(Memo(ReadBytes(1)[0])); break; // BINGET
                case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break;
                default:
                    throw new PickleException($"unsupported pickle opcode 0x{op:x2} ('{(op >= 0x20 && op < 0x7f ? (char)op : '?')}') at byte {at}; only plain state dicts of arrays are read");
            }
        }
    }

    IPickleCallable Global(string module, string name) =>
        _globals.TryGetValue(module + "." + name, out var callable) ? callable
            : throw new PickleException($"the global {module}.{name} is not allowed (a state dict holds only arrays, dicts and tensor storages), so the file is refused");

    void Reduce()
    {
        var args = Pop() as object?[] ?? throw new PickleException("REDUCE without an argument tuple");
        var callable = Pop() as IPickleCallable ?? throw new PickleException("REDUCE on something that is not an allowed global");
        Push(callable.Call(args));
    }

    void Build()
    {
        var state = Pop();
        switch (Peek())
        {
            case IPickleBuildable buildable: buildable.SetState(state); break;
            case Dictionary<object, object?>: break; // an OrderedDict's attributes (PyTorch's _metadata): not weights
            default: throw new PickleException("BUILD on an object that takes no state");
        }
    }

    object PersistentLoad(object? id) =>
        _persistentLoad is null ? throw new PickleException("persistent ids (external storages) are not allowed in this format")
            : _persistentLoad(id);

    static void SetItem(object? target, object? key, object? value)
    {
        if (target is not Dictionary<object, object?> dict) throw new PickleException("SETITEM on something that is not a dict");
        dict[key ?? throw new PickleException("dict key None is not supported")] = value;
    }

    static List<object?> AsList(object? target) => target as List<object?> ?? throw new PickleException("APPEND on something that is not a list");

    object? Memo(long key) => _memo.TryGetValue(key, out var v) ? v : throw new PickleException($"memo key {key} used before it was stored");

    void Push(object? value) => _stack.Add(value);

    object? Peek() => _stack.Count > 0 ? _stack[^1] : throw new PickleException("stack underflow");

    object? Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _stack.Count <= _marks.Peek())) throw new PickleException("stack underflow");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    List<object?> PopMark()
    {
        if (_marks.Count == 0) throw new PickleException("no MARK for a tuple, dict or list");
        int start = _marks.Pop();
        var items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    ReadOnlySpan<byte> ReadBytes(long count)
    {
        if (count < 0 || count > _data.Length - _pos)
            throw new PickleException($"truncated: {count} bytes wanted at byte {_pos}, the file has {_data.Length}");
        var span = _data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return span;
    }

    long ReadLength(int width)
    {
        var b = ReadBytes(width);
        long n = width switch
        {
            1 => b[0],
            4 => BinaryPrimitives.ReadUInt32LittleEndian(b),
            _ => (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(b), long.MaxValue),
        };
        if (n > _data.Length - _pos) throw new PickleException($"truncated: an item of {n} bytes at byte {_pos} runs past the end ({_data.Length} bytes)");
        return n;
    }

    string Utf8(long length) => Encoding.UTF8.GetString(ReadBytes(length));

    string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw new PickleException($"truncated: GLOBAL name at byte {_pos} has no end");
        string s = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    long Long1()
    {
        int n = ReadBytes(1)[0];
        if (n > 8) throw new PickleException($"integer of {n} bytes is too large");
        var b = ReadBytes(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
        if (n is > 0 and < 8 && (b[n - 1] & 0x80) != 0) v -= 1L << (8 * n); // two's complement
        return v;
    }
}
