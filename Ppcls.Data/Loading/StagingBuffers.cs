using System.Collections.Concurrent;

namespace Ppcls.Data.Loading;

/// <summary>
/// The loader's reusable pixel buffers, shared by its workers across epochs: as many exist as
/// batches were ever in flight at once, and a rented buffer may be longer than asked for.
/// </summary>
sealed class StagingBuffers
{
    readonly ConcurrentBag<float[]> _free = [];

    public float[] Rent(int length)
    {
        if (_free.TryTake(out var buffer) && buffer.Length >= length) return buffer;
        // Too small (a larger multi-scale size): dropped; the new one takes its place in the pool.
        return GC.AllocateUninitializedArray<float>(length);
    }

    public void Return(float[] buffer) => _free.Add(buffer);
}
