using Ppcls.Core;
using Ppcls.Inference;
using static TorchSharp.torch;

namespace Ppcls.Data.Loading;

/// <summary>A batch as a worker hands it over: pixels in a staging buffer (none when every image of it was skipped).</summary>
sealed record StagedBatch(float[]? Pixels, long[] Shape, Tensor? Labels, IReadOnlyList<string> Skipped);

/// <summary>One batch of an epoch's plan: its sample indices and the chain their images go through.</summary>
readonly record struct PlannedBatch(int[] Indices, SamplePipeline Pipeline);

/// <summary>
/// The loader's worker threads over a sequence of epochs. The batches of the sequence are
/// counted across epochs; worker k assembles batches k, k+W, k+2W, ... into its own bounded
/// queue, and the consumer reads the queues round-robin, so batches arrive in order and at
/// most W x <see cref="DataLoader.Prefetch"/> wait. An epoch appended while the consumer still
/// reads the one before is started as soon as a worker is free: a small epoch no longer ends
/// with idle workers and begins with an empty pipeline and new threads.
/// </summary>
sealed class WorkerRun : IDisposable
{
    readonly int _workers;
    readonly Func<int, PlannedBatch[]> _plan;
    readonly Func<PlannedBatch, int, int, StagedBatch> _stage;
    readonly Action<StagedBatch> _discard;
    readonly CancellationTokenSource _stop = new();
    readonly CancellationTokenRegistration _wakeOnStop;
    readonly List<(int Epoch, Lazy<PlannedBatch[]> Batches)> _epochs = [];
    readonly HandoffQueue<(StagedBatch? Batch, Exception? Error)>[] _queues;
    readonly Task[] _threads;
    int _epochsRead;
    int _batchesRead;

    /// <param name="stage">Assembles one batch (its plan entry, epoch, index in the epoch) on a worker.</param>
    /// <param name="discard">Frees a staged batch nobody will read.</param>
    public WorkerRun(int workers, int firstEpoch, Func<int, PlannedBatch[]> plan, Func<PlannedBatch, int, int, StagedBatch> stage, Action<StagedBatch> discard)
    {
        _workers = workers;
        _plan = plan;
        _stage = stage;
        _discard = discard;
        _wakeOnStop = _stop.Token.Register(() =>
        {
            lock (_epochs) Monitor.PulseAll(_epochs);
        });
        Append(firstEpoch);
        _queues = [.. Enumerable.Range(0, workers).Select(_ => new HandoffQueue<(StagedBatch?, Exception?)>(DataLoader.Prefetch, _stop.Token))];
        _threads = [.. Enumerable.Range(0, workers).Select(k => Task.Factory.StartNew(() => Work(k),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
    }

    /// <summary>The epoch the consumer reads next, if it was appended.</summary>
    public int? NextEpoch
    {
        get
        {
            lock (_epochs) return _epochsRead < _epochs.Count ? _epochs[_epochsRead].Epoch : null;
        }
    }

    /// <summary>Queues <paramref name="epoch"/> after the ones appended so far.</summary>
    public void Append(int epoch)
    {
        lock (_epochs)
        {
            _epochs.Add((epoch, new Lazy<PlannedBatch[]>(() => _plan(epoch))));
            Monitor.PulseAll(_epochs);
        }
    }

    /// <summary>
    /// The next epoch's staged batches in order (<see cref="NextEpoch"/> must have one). A
    /// worker's error is thrown here when its batch is due; cancelling stops the whole run.
    /// </summary>
    public IEnumerable<StagedBatch> ReadEpoch(CancellationToken cancel)
    {
        Lazy<PlannedBatch[]> plan;
        lock (_epochs) plan = _epochs[_epochsRead].Batches;
        var batches = plan.Value; // planned outside the lock, which the workers wait on
        using var stopOnCancel = cancel.Register(_stop.Cancel);
        for (int b = 0; b < batches.Length; b++)
        {
            int worker = (_batchesRead + b) % _workers;
            if (!_queues[worker].TryTake(out var item))
                throw new InvalidOperationException($"data loader worker {worker} stopped before batch {b}");
            if (item.Error is not null)
            {
                if (item.Error is UserInputException or OperationCanceledException) throw item.Error;
                throw new PpclsUserException(item.Error.Message);
            }
            yield return item.Batch!;
        }
        _batchesRead += batches.Length;
        lock (_epochs) _epochsRead++;
    }

    void Work(int worker)
    {
        var queue = _queues[worker];
        try
        {
            int offset = 0; // batches of the sequence before this epoch
            for (int e = 0; WaitForEpoch(e) is var (epoch, plan) && plan is not null; e++)
            {
                var batches = plan.Value;
                int first = ((worker - offset) % _workers + _workers) % _workers;
                for (int b = first; b < batches.Length; b += _workers)
                {
                    if (queue.IsStopped) return;
                    (StagedBatch?, Exception?) item;
                    try
                    {
                        item = (_stage(batches[b], epoch, b), null);
                    }
                    catch (Exception error)
                    {
                        item = (null, error);
                    }
                    if (!queue.TryAdd(item))
                    {
                        if (item.Item1 is { } staged) _discard(staged);
                        return;
                    }
                    if (item.Item2 is not null) return;
                }
                offset += batches.Length;
            }
        }
        finally
        {
            queue.Complete();
        }
    }

    /// <summary>The <paramref name="index"/>-th epoch of the sequence, once appended; no plan once the run stops.</summary>
    (int Epoch, Lazy<PlannedBatch[]>? Plan) WaitForEpoch(int index)
    {
        lock (_epochs)
        {
            while (_epochs.Count <= index && !_stop.IsCancellationRequested) Monitor.Wait(_epochs);
            return _stop.IsCancellationRequested ? (0, null) : _epochs[index];
        }
    }

    /// <summary>Stops the workers and frees every batch still queued.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        Task.WaitAll(_threads);
        foreach (var queue in _queues)
        {
            foreach (var left in queue.Drain())
                if (left.Batch is { } staged) _discard(staged);
            queue.Dispose();
        }
        _wakeOnStop.Dispose();
        _stop.Dispose();
    }
}
