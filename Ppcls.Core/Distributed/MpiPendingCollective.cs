using System.Runtime.InteropServices;

namespace Ppcls.Core.Distributed;

/// <summary>
/// The MPI requests of one started collective (a buffer over 2^31 - 1 elements takes several) and the
/// native send buffer it may own. <see cref="Test"/> may be called from the training thread and the
/// communication thread at once: each request is tested by one of them, under the communicator's lock
/// (MPI_THREAD_SERIALIZED: one thread in MPI at a time).
/// </summary>
sealed unsafe class MpiPendingCollective(string call, object mpi, CollectiveDeadline deadline) : IPendingCollective
{
    readonly List<IntPtr> _requests = [];
    void* _sendBuffer;
    volatile bool _complete;

    /// <summary>Keeps <paramref name="sendBuffer"/> (from NativeMemory.Alloc) until the collective completes.</summary>
    public void Own(void* sendBuffer) => _sendBuffer = sendBuffer;

    public void Add(IntPtr request) => _requests.Add(request);

    public bool IsComplete => _complete;

    public bool Test()
    {
        lock (this)
        {
            if (_complete) return true;
            lock (mpi)
            {
                for (int i = _requests.Count - 1; i >= 0; i--)
                {
                    var request = _requests[i];
                    int code = MpiNative.MPI_Test(ref request, out int done, MpiNative.StatusIgnore);
                    if (code != 0) throw new InvalidOperationException($"MPI_Test failed with MPI error code {code}");
                    if (done != 0) _requests.RemoveAt(i);
                }
            }
            if (_requests.Count > 0) return false;
            NativeMemory.Free(_sendBuffer);
            _sendBuffer = null;
            return _complete = true;
        }
    }

    public void Wait() => deadline.Wait(Test, call);
}
