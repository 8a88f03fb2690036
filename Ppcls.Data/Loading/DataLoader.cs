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
/// arrive in order and at most W * Prefetch are held. Workers write the images straight into
/// the batch tensor's storage (normalised on the way), so the training thread only receives
/// finished tensors. With `num_workers: 0` batches are made on the caller's thread. Every random draw comes from
/// (seed, epoch, sample or batch index): the batches are identical for any worker count.
/// A worker error ends the epoch with a PpclsUserException naming the image. With MultiScaleSampler
/// each batch also has its image size (<see cref="MultiScalePlan"/>): its images go through the
/// chain with the crop/resize ops set to that size.
/// </summary>
public sealed class DataLoader : IBatchSource
{
    public const int Prefetch = 2;

    readonly IDataset _dataset;
    readonly SamplePipeline _pipeline;
    readonly IReadOnlyList<IBatchOp> _batchOps;
    readonly SamplerConfig _sampler;
    readonly MultiScalePlan? _multiScale;
    readonly Dictionary<OpenCvSharp.Size, SamplePipeline> _sizedPipelines = [];
    readonly Action<string> _notice;

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
        if (sampler.MultiScale is { } multiScale)
        {
            _multiScale = new MultiScalePlan(dataset.Count, multiScale, sampler.Shuffle, seed);
            foreach (var (size, _) in MultiScalePlan.Resolutions(multiScale))
                _sizedPipelines.TryAdd(size, pipeline.WithSize(size));
        }
    }

    public int SampleCount => _dataset.Count;
    public int BatchCount => _multiScale?.BatchCount
        ?? (_sampler.InstancesPerClass is null ? BatchPlan.BatchCount(_dataset.Count, _sampler) : IdentityPlan.BatchCount(_dataset.Count, _sampler.BatchSize));
    public int ClassNum { get; }
    public int Workers { get; }
    public long Seed { get; }
    public IDataset Dataset => _dataset;
    public LabelSummary? LabelSummary => _dataset.LabelSummary;

    /// <summary>An assembled batch (null when every image of it was skipped) and the images skipped on the way.</summary>
    public sealed record AssembledBatch(Batch? Batch, IReadOnlyList<string> Skipped);

    public IEnumerable<Batch> Epoch(int epoch, CancellationToken cancel = default)
    {
        int skipped = 0;
        string? firstSkipped = null;
        foreach (var assembled in Run(epoch, cancel))
        {
            skipped += assembled.Skipped.Count;
            firstSkipped ??= assembled.Skipped.FirstOrDefault();
            if (assembled.Batch is { } batch) yield return batch;
        }
        if (skipped > 0)
            _notice($"epoch {epoch}: skipped {skipped} undecodable image{(skipped == 1 ? "" : "s")} (on_bad_image: skip), first: {firstSkipped}");
    }

    /// <summary>Assembles the epoch's batches on the workers and yields them in order; batches never delivered are disposed.</summary>
    IEnumerable<AssembledBatch> Run(int epoch, CancellationToken cancel)
    {
        var plan = PlanEpoch(epoch);
        if (Workers == 0)
        {
            for (int b = 0; b < plan.Length; b++)
            {
                cancel.ThrowIfCancellationRequested();
                yield return Assemble(plan[b].Indices, plan[b].Pipeline, epoch, b);
            }
            yield break;
        }

        int workers = Math.Min(Workers, Math.Max(1, plan.Length));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var queues = new Channel<(AssembledBatch? Batch, Exception? Error)>[workers];
        var threads = new Task[workers];
        for (int k = 0; k < workers; k++)
        {
            var queue = queues[k] = Channel.CreateBounded<(AssembledBatch?, Exception?)>(
                new BoundedChannelOptions(Prefetch) { SingleReader = true, SingleWriter = true });
            int worker = k;
            threads[k] = Task.Factory.StartNew(() => Work(worker, workers, plan, epoch, queue.Writer, stop.Token),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        try
        {
            for (int b = 0; b < plan.Length; b++)
            {
                (AssembledBatch? batch, Exception? error) item;
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
            try
            {
                Task.WaitAll(threads);
            }
            catch (AggregateException)
            {
                // Worker failures were delivered through the queues; cancellations are expected here.
            }
            foreach (var q in queues)
                while (q.Reader.TryRead(out var left))
                    left.Batch?.Batch?.Dispose();
        }
    }

    /// <summary>The epoch's batches: sample indices and the chain their images go through.</summary>
    (int[] Indices, SamplePipeline Pipeline)[] PlanEpoch(int epoch) =>
        _multiScale is not null ? [.. _multiScale.Plan(epoch).Select(b => (b.Indices, _sizedPipelines[b.Size]))]
        : _sampler.InstancesPerClass is { } perClass
            ? [.. IdentityPlan.Plan(Labels(), _sampler.BatchSize, perClass, Seed, epoch).Select(indices => (indices, _pipeline))]
            : [.. BatchPlan.Plan(_dataset.Count, _sampler, Seed, epoch).Select(indices => (indices, _pipeline))];

    long[] Labels() => [.. Enumerable.Range(0, _dataset.Count).Select(_dataset.Label)];

    void Work(int worker, int workers, (int[] Indices, SamplePipeline Pipeline)[] plan, int epoch, ChannelWriter<(AssembledBatch?, Exception?)> writer, CancellationToken stop)
    {
        try
        {
            for (int b = worker; b < plan.Length && !stop.IsCancellationRequested; b += workers)
            {
                (AssembledBatch?, Exception?) item;
                try
                {
                    item = (Assemble(plan[b].Indices, plan[b].Pipeline, epoch, b), null);
                }
                catch (Exception e)
                {
                    item = (null, e);
                }
                try
                {
                    writer.WriteAsync(item, stop).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    item.Item1?.Batch?.Dispose();
                    throw;
                }
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

    /// <summary>
    /// Reads and transforms one batch's images, lays them out straight into a new NCHW float
    /// tensor, and applies the batch ops there. Runs on a worker thread.
    /// </summary>
    public AssembledBatch Assemble(int[] indices, int epoch, int batchIndex) => Assemble(indices, _pipeline, epoch, batchIndex);

    AssembledBatch Assemble(int[] indices, SamplePipeline pipeline, int epoch, int batchIndex)
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
                    samples.Add((pipeline.Run(bytes, source, rng), _dataset.Label(index)));
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
            if (samples.Count == 0) return new AssembledBatch(null, skipped);
            return new AssembledBatch(ToTensors(samples, epoch, batchIndex), skipped);
        }
        finally
        {
            foreach (var (sample, _) in samples) sample.Dispose();
        }
    }

    Batch ToTensors(List<(ImageSample Sample, long Label)> samples, int epoch, int batchIndex)
    {
        var (c, h, w) = SamplePipeline.Shape(samples[0].Sample.Image!);
        int n = samples.Count, length = c * h * w;
        var images = empty([n, c, h, w], ScalarType.Float32);
        try
        {
            using var memory = new TensorMemory(images);
            var buffer = memory.Memory;
            for (int i = 0; i < n; i++)
                _pipeline.WriteChw(samples[i].Sample.Image!, buffer.Span.Slice(i * length, length), samples[i].Sample.Source);
            var labels = samples.Select(s => s.Label).ToArray();
            if (_batchOps.Count == 0) return new Batch(images, tensor(labels, [n], ScalarType.Int64));

            var mix = new MixBatch(buffer, n, c, h, w, labels, ClassNum);
            var rng = SampleRandom.For(Seed, SampleRandom.BatchStream, epoch, batchIndex);
            foreach (var op in _batchOps) op.Apply(mix, rng);
            // OpSampler may choose no op: keep the label format (soft) the same for every batch.
            if (mix.SoftLabels is null) mix.MixLabels([.. Enumerable.Range(0, n)], 1.0);
            return new Batch(images, tensor(mix.SoftLabels!, [n, ClassNum], ScalarType.Float32));
        }
        catch
        {
            images.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
    }
}
