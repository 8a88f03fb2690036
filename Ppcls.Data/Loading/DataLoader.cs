using System.Collections.Concurrent;
using System.Threading.Channels;
using Ppcls.Core;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Data.Imaging;
using static TorchSharp.torch;

namespace Ppcls.Data.Loading;

/// <summary>
/// The parallel loader. Worker k assembles batches k, k+W, k+2W, ... into its own bounded
/// queue (`Prefetch` batches each), and the consumer reads the queues round-robin, so batches
/// arrive in order and at most W * Prefetch are held. Every random draw comes from
/// (seed, epoch, sample or batch index): the batches are identical for any worker count.
/// A worker error ends the epoch with a PpclsUserException naming the image.
/// </summary>
public sealed class DataLoader : IBatchSource
{
    public const int Prefetch = 2;

    readonly IDataset _dataset;
    readonly SamplePipeline _pipeline;
    readonly IReadOnlyList<IBatchOp> _batchOps;
    readonly SamplerConfig _sampler;
    readonly Action<string> _notice;
    readonly ConcurrentBag<float[]> _buffers = [];

    public DataLoader(IDataset dataset, SamplePipeline pipeline, IReadOnlyList<IBatchOp> batchOps, SamplerConfig sampler,
        int workers, int classNum, long seed, Action<string> notice)
    {
        _dataset = dataset;
        _pipeline = pipeline;
        _batchOps = batchOps;
        _sampler = sampler;
        Workers = Math.Max(0, workers);
        ClassNum = classNum;
        Seed = seed;
        _notice = notice;
    }

    public int SampleCount => _dataset.Count;
    public int BatchCount => BatchPlan.BatchCount(_dataset.Count, _sampler);
    public int ClassNum { get; }
    public int Workers { get; }
    public long Seed { get; }
    public IDataset Dataset => _dataset;

    /// <summary>A finished batch on the host, before it becomes tensors.</summary>
    public sealed record HostBatch(float[] Images, int Count, int C, int H, int W, long[] Labels, float[]? SoftLabels, IReadOnlyList<string> Skipped);

    public IEnumerable<Batch> Epoch(int epoch, CancellationToken cancel = default)
    {
        int skipped = 0;
        string? firstSkipped = null;
        foreach (var host in HostEpoch(epoch, cancel))
        {
            skipped += host.Skipped.Count;
            firstSkipped ??= host.Skipped.FirstOrDefault();
            if (host.Count == 0) continue;
            yield return ToTensors(host);
        }
        if (skipped > 0)
            _notice($"epoch {epoch}: skipped {skipped} undecodable image{(skipped == 1 ? "" : "s")} (on_bad_image: skip), first: {firstSkipped}");
    }

    Batch ToTensors(HostBatch host)
    {
        var images = empty([host.Count, host.C, host.H, host.W], ScalarType.Float32);
        images.data<float>().CopyFrom(host.Images, 0, 0);
        _buffers.Add(host.Images);
        Tensor labels;
        if (host.SoftLabels is { } soft)
        {
            labels = empty([host.Count, ClassNum], ScalarType.Float32);
            labels.data<float>().CopyFrom(soft, 0, 0);
        }
        else
        {
            labels = empty([host.Count], ScalarType.Int64);
            labels.data<long>().CopyFrom(host.Labels, 0, 0);
        }
        return new Batch(images, labels);
    }

    /// <summary>The epoch's batches as host arrays, in order (what <see cref="Epoch"/> turns into tensors).</summary>
    public IEnumerable<HostBatch> HostEpoch(int epoch, CancellationToken cancel = default)
    {
        var plan = BatchPlan.Plan(_dataset.Count, _sampler, Seed, epoch);
        if (Workers == 0)
        {
            for (int b = 0; b < plan.Length; b++)
            {
                cancel.ThrowIfCancellationRequested();
                yield return Assemble(plan[b], epoch, b);
            }
            yield break;
        }

        int workers = Math.Min(Workers, Math.Max(1, plan.Length));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var queues = new Channel<(HostBatch? Batch, Exception? Error)>[workers];
        var threads = new Task[workers];
        for (int k = 0; k < workers; k++)
        {
            var queue = queues[k] = Channel.CreateBounded<(HostBatch?, Exception?)>(
                new BoundedChannelOptions(Prefetch) { SingleReader = true, SingleWriter = true });
            int worker = k;
            threads[k] = Task.Factory.StartNew(() => Work(worker, workers, plan, epoch, queue.Writer, stop.Token),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        try
        {
            for (int b = 0; b < plan.Length; b++)
            {
                (HostBatch? batch, Exception? error) item;
                try
                {
                    item = queues[b % workers].Reader.ReadAsync(stop.Token).AsTask().GetAwaiter().GetResult();
                }
                catch (ChannelClosedException)
                {
                    throw new InvalidOperationException($"data loader worker {b % workers} stopped before batch {b}");
                }
                if (item.error is not null)
                {
                    if (item.error is PpclsUserException or OperationCanceledException) throw item.error;
                    throw new PpclsUserException(item.error.Message);
                }
                yield return item.batch!;
            }
        }
        finally
        {
            stop.Cancel();
            foreach (var q in queues) while (q.Reader.TryRead(out _)) { }
            try
            {
                Task.WaitAll(threads);
            }
            catch (AggregateException)
            {
                // Worker failures were delivered through the queues; cancellations are expected here.
            }
        }
    }

    void Work(int worker, int workers, int[][] plan, int epoch, ChannelWriter<(HostBatch?, Exception?)> writer, CancellationToken stop)
    {
        try
        {
            for (int b = worker; b < plan.Length && !stop.IsCancellationRequested; b += workers)
            {
                (HostBatch?, Exception?) item;
                try
                {
                    item = (Assemble(plan[b], epoch, b), null);
                }
                catch (Exception e)
                {
                    item = (null, e);
                }
                writer.WriteAsync(item, stop).AsTask().GetAwaiter().GetResult();
                if (item.Item2 is not null) break;
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            writer.TryComplete();
        }
    }

    /// <summary>Reads, transforms and lays out one batch, then applies the batch ops.</summary>
    public HostBatch Assemble(int[] indices, int epoch, int batchIndex)
    {
        var skipped = new List<string>();
        var samples = new List<(ImageSample Sample, long Label)>(indices.Length);
        try
        {
            foreach (int index in indices)
            {
                string source = _dataset.Describe(index);
                var rng = SampleRandom.For(Seed, SampleRandom.SampleStream, epoch, index);
                try
                {
                    byte[] bytes;
                    try
                    {
                        bytes = _dataset.Read(index);
                    }
                    catch (IOException e)
                    {
                        throw new PpclsUserException($"cannot read image {source}: {e.Message}");
                    }
                    samples.Add((_pipeline.Run(bytes, source, rng), _dataset.Label(index)));
                }
                catch (BadImageException e)
                {
                    if (_dataset.OnBadImage == BadImagePolicy.Error)
                        throw new PpclsUserException($"{e.Message} (set on_bad_image: skip in the dataset to skip such files)");
                    skipped.Add(source);
                }
                catch (PpclsUserException)
                {
                    throw;
                }
                catch (Exception e)
                {
                    throw new PpclsUserException($"{source}: transform_ops failed: {e.Message}");
                }
            }
            if (samples.Count == 0) return new HostBatch([], 0, 0, 0, 0, [], null, skipped);
            var (c, h, w) = SamplePipeline.Shape(samples[0].Sample.Image!);
            int length = c * h * w;
            var buffer = Rent(samples.Count * length);
            for (int i = 0; i < samples.Count; i++)
                _pipeline.WriteChw(samples[i].Sample.Image!, buffer.AsSpan(i * length, length), samples[i].Sample.Source);
            var labels = samples.Select(s => s.Label).ToArray();
            float[]? soft = null;
            if (_batchOps.Count > 0)
            {
                var mix = new MixBatch(buffer, samples.Count, c, h, w, labels, ClassNum);
                var rng = SampleRandom.For(Seed, SampleRandom.BatchStream, epoch, batchIndex);
                foreach (var op in _batchOps) op.Apply(mix, rng);
                soft = mix.SoftLabels;
                if (soft is null && ClassNum > 0)
                {
                    // OpSampler chose no op: keep the batch's label format fixed (soft) across batches.
                    mix.MixLabels(Enumerable.Range(0, samples.Count).ToArray(), 1.0);
                    soft = mix.SoftLabels;
                }
            }
            return new HostBatch(buffer, samples.Count, c, h, w, labels, soft, skipped);
        }
        finally
        {
            foreach (var (sample, _) in samples) sample.Dispose();
        }
    }

    float[] Rent(int length)
    {
        // Buffers come back after the tensors are made; keep the ones of the current size.
        while (_buffers.TryTake(out var b))
            if (b.Length == length) return b;
        return new float[length];
    }

    public void Dispose() => _buffers.Clear();
}
