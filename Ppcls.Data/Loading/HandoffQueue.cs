namespace Ppcls.Data.Loading;

/// <summary>
/// A bounded FIFO from one loader worker to the consumer whose waits block at once instead of
/// spinning. A channel read waited on synchronously spins before it sleeps, and a spinning
/// consumer takes a core from the workers on a 2-core machine (a one-worker loader kept 1.17
/// cores busy). Cancelling the token wakes both sides.
/// </summary>
sealed class HandoffQueue<T> : IDisposable
{
    readonly Queue<T> _items = new();
    readonly int _capacity;
    readonly CancellationToken _stop;
    readonly CancellationTokenRegistration _wakeOnStop;
    bool _completed;

    public HandoffQueue(int capacity, CancellationToken stop)
    {
        _capacity = capacity;
        _stop = stop;
        _wakeOnStop = stop.Register(() =>
        {
            lock (_items) Monitor.PulseAll(_items);
        });
    }

    public bool IsStopped => _stop.IsCancellationRequested;

    /// <summary>Adds <paramref name="item"/>, waiting while the queue is full; false (item not added) once stopped.</summary>
    public bool TryAdd(T item)
    {
        lock (_items)
        {
            while (_items.Count >= _capacity && !_stop.IsCancellationRequested) Monitor.Wait(_items);
            if (_stop.IsCancellationRequested) return false;
            _items.Enqueue(item);
            Monitor.PulseAll(_items);
            return true;
        }
    }

    /// <summary>The next item, waiting while the queue is empty; false when the worker completed and nothing is left.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public bool TryTake(out T item)
    {
        lock (_items)
        {
            // Checked before the items too: once stopped, the workers' queues end early, and a
            // consumer draining them must see the cancellation, not a worker that stopped.
            _stop.ThrowIfCancellationRequested();
            while (_items.Count == 0 && !_completed)
            {
                Monitor.Wait(_items);
                _stop.ThrowIfCancellationRequested();
            }
            if (_items.Count == 0)
            {
                item = default!;
                return false;
            }
            item = _items.Dequeue();
            Monitor.PulseAll(_items);
            return true;
        }
    }

    /// <summary>The worker adds nothing more.</summary>
    public void Complete()
    {
        lock (_items)
        {
            _completed = true;
            Monitor.PulseAll(_items);
        }
    }

    /// <summary>Removes and returns what is left (after the worker stopped).</summary>
    public List<T> Drain()
    {
        lock (_items)
        {
            var left = _items.ToList();
            _items.Clear();
            return left;
        }
    }

    public void Dispose() => _wakeOnStop.Dispose();
}
