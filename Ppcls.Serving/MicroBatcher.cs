using System.Diagnostics;
using System.Threading.Channels;

namespace Ppcls.Serving;

/// <summary>
/// Gathers the images of concurrent requests into model runs of up to <c>maxBatch</c>: the first image waits at
/// most <c>maxWait</c> for others. At most <c>capacity</c> images wait; a request that would pass that is refused
/// as a whole (<see cref="TryEnqueue"/> returns null) instead of growing the queue. One reader runs the model.
/// </summary>
public sealed class MicroBatcher : IAsyncDisposable
{
    sealed record Pending(float[] Chw, int C, int H, int W, TaskCompletionSource<float[]> Done);

    readonly Channel<Pending> _channel = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    readonly Func<float[], long[], float[]> _run;
    readonly int _maxBatch;
    readonly TimeSpan _maxWait;
    readonly int _capacity;
    readonly ServingMetrics _metrics;
    readonly Task _loop;
    int _queued;

    public MicroBatcher(Func<float[], long[], float[]> run, int maxBatch, TimeSpan maxWait, int capacity, ServingMetrics metrics)
    {
        (_run, _maxBatch, _maxWait, _capacity, _metrics) = (run, maxBatch, maxWait, capacity, metrics);
        _loop = Task.Run(Loop);
    }

    /// <summary>Images waiting for the model.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Queues every image (each task gives its scores), or none and null when the queue has no room for them all.</summary>
    public IReadOnlyList<Task<float[]>>? TryEnqueue(IReadOnlyList<(float[] Chw, int C, int H, int W)> images)
    {
        if (Interlocked.Add(ref _queued, images.Count) > _capacity)
        {
            Interlocked.Add(ref _queued, -images.Count);
            return null;
        }
        var tasks = new List<Task<float[]>>(images.Count);
        foreach (var (chw, c, h, w) in images)
        {
            var done = new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_channel.Writer.TryWrite(new Pending(chw, c, h, w, done)))
            {
                Interlocked.Decrement(ref _queued);
                done.SetException(new ObjectDisposedException(nameof(MicroBatcher), "the server is stopping"));
            }
            tasks.Add(done.Task);
        }
        return tasks;
    }

    async Task Loop()
    {
        var reader = _channel.Reader;
        var batch = new List<Pending>(_maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (!reader.TryRead(out var first)) continue;
            batch.Add(first);
            long deadline = Stopwatch.GetTimestamp() + (long)(_maxWait.TotalSeconds * Stopwatch.Frequency);
            while (batch.Count < _maxBatch)
            {
                if (reader.TryRead(out var next))
                {
                    batch.Add(next);
                    continue;
                }
                long left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0) break;
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
                try
                {
                    if (!await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false)) break;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            Interlocked.Add(ref _queued, -batch.Count);
            foreach (var group in batch.GroupBy(p => (p.C, p.H, p.W))) Run([.. group]);
            batch.Clear();
        }
    }

    void Run(List<Pending> group)
    {
        var (_, c, h, w, _) = group[0];
        int size = c * h * w;
        var input = new float[group.Count * size];
        for (int i = 0; i < group.Count; i++) group[i].Chw.CopyTo(input, i * size);
        _metrics.ObserveBatch(group.Count);
        try
        {
            var scores = _run(input, [group.Count, c, h, w]);
            int classes = scores.Length / group.Count;
            for (int i = 0; i < group.Count; i++) group[i].Done.SetResult(scores.AsSpan(i * classes, classes).ToArray());
        }
        catch (Exception e)
        {
            foreach (var pending in group) pending.Done.SetException(e);
        }
    }

    /// <summary>Runs what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
