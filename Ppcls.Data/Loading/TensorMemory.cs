using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Ppcls.Data.Loading;

/// <summary>
/// The float storage of a contiguous CPU tensor as <see cref="Memory{T}"/>, so images are
/// written straight into the batch tensor (no intermediate array, no copy). Valid while the
/// tensor lives; dispose this view before handing the tensor on.
/// </summary>
sealed unsafe class TensorMemory : MemoryManager<float>
{
    readonly float* _data;
    readonly int _length;

    public TensorMemory(Tensor tensor)
    {
        if (tensor.dtype != ScalarType.Float32 || !tensor.is_contiguous() || tensor.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException("expected a contiguous float32 CPU tensor", nameof(tensor));
        var bytes = tensor.bytes;
        _length = bytes.Length / sizeof(float);
        _data = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
    }

    public override Span<float> GetSpan() => new(_data, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_data + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
