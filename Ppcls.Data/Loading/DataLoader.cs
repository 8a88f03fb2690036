using System.Runtime.InteropServices;
using Ppcls.Core;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Data.BatchOps;
using Ppcls.Data.Datasets;
using Ppcls.Data.Imaging;
using Ppcls.Inference;
using static TorchSharp.torch;

namespace Ppcls.Data.Loading;

/// <summary>
/// The parallel loader: `num_workers` threads assemble batches in order (<see cref="WorkerRun"/>),
/// going on into the next epoch when the caller names it. Workers write the images (normalised
/// on the way) into reusable staging buffers; the consumer copies each batch into its tensor
/// (see <see cref="Materialize"/> for why the tensor is not allocated on the worker). With
/// `num_workers: 0` batches are made on the caller's thread. Every random draw comes from
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
    readonly IEpochPlan _plan;
    readonly Action<string> _notice;
    readonly StagingBuffers _staging = new();
    WorkerRun? _workerRun; // the epoch being read and, when the caller named it, the next one

    /// <param name="shard">The rank's part of each epoch (<see cref="BatchPlan"/>); null: everything.</param>
    public DataLoader(IDataset dataset, SamplePipeline pipeline, IReadOnlyList<IBatchOp> batchOps, SamplerConfig sampler,
        int workers, int classNum, long seed, Action<string> notice, DataShard? shard = null)
    {
        _dataset = dataset;
        _pipeline = pipeline;
        _batchOps = batchOps;
        Workers = Math.Max(0, workers);
        ClassNum = classNum;
        Seed = seed;
        _notice = notice;
        _plan = EpochPlan.For(sampler, dataset, pipeline, seed, shard ?? DataShard.Whole);
    }

    public int SampleCount => _dataset.Count;
    public int BatchCount => _plan.BatchCount;

    /// <summary>The (images, size) of the batches at most, for <see cref="BatchMemoryCheck"/>.</summary>
    internal IEnumerable<(int Images, OpenCvSharp.Size? Size)> BatchShapes => _plan.BatchShapes;
    public int ClassNum { get; }
    public int Workers { get; }
    public long Seed { get; }
    public IDataset Dataset => _dataset;
    public SamplePipeline Pipeline => _pipeline;
    public LabelSummary? LabelSummary => _dataset.LabelSummary;

    public IEnumerable<string> ImageFiles => Enumerable.Range(0, _dataset.Count).Select(_dataset.Describe);

    public IReadOnlyList<long>? Cameras => _dataset.Cameras;

    /// <summary>An assembled batch (null when every image of it was skipped) and the images skipped on the way.</summary>
    public sealed record AssembledBatch(Batch? Batch, IReadOnlyList<string> Skipped);

    /// <param name="next">The epoch the caller reads after this one, if it knows: the workers start on it as soon as they are free.</param>
    public IEnumerable<Batch> Epoch(int epoch, int? next = null, CancellationToken cancel = default)
    {
        int skipped = 0;
        string? firstSkipped = null;
        foreach (var assembled in Run(epoch, next, cancel))
        {
            skipped += assembled.Skipped.Count;
            firstSkipped ??= assembled.Skipped.FirstOrDefault();
            if (assembled.Batch is { } batch) yield return batch;
        }
        if (skipped > 0)
            _notice($"epoch {epoch}: skipped {skipped} undecodable image{(skipped == 1 ? "" : "s")} (on_bad_image: skip), first: {firstSkipped}");
    }

    /// <summary>Assembles the epoch's batches on the workers and yields them in order; batches never delivered are disposed.</summary>
    IEnumerable<AssembledBatch> Run(int epoch, int? next, CancellationToken cancel)
    {
        if (Workers == 0)
        {
            var plan = _plan.Plan(epoch);
            for (int b = 0; b < plan.Length; b++)
            {
                cancel.ThrowIfCancellationRequested();
                yield return Assemble(plan[b].Indices, plan[b].Pipeline, epoch, b);
            }
            yield break;
        }

        if (_workerRun?.NextEpoch != epoch)
        {
            _workerRun?.Dispose();
            _workerRun = new WorkerRun(Workers, epoch, _plan.Plan, Stage, Discard);
        }
        var run = _workerRun;
        if (next is { } following) run.Append(following);
        bool finished = false;
        try
        {
            foreach (var staged in run.ReadEpoch(cancel)) yield return Materialize(staged);
            finished = true;
        }
        finally
        {
            // Kept only to go on into the announced next epoch.
            if (!finished || next is null)
            {
                run.Dispose();
                _workerRun = null;
            }
        }
    }

    void Discard(StagedBatch staged)
    {
        staged.Labels?.Dispose();
        if (staged.Pixels is not null) _staging.Return(staged.Pixels);
    }

    /// <summary>
    /// Reads and transforms one batch's images, lays them out straight into a new NCHW float
    /// tensor, and applies the batch ops there, on the caller's thread (`num_workers: 0`).
    /// </summary>
    public AssembledBatch Assemble(int[] indices, int epoch, int batchIndex) => Assemble(indices, _pipeline, epoch, batchIndex);

    AssembledBatch Assemble(int[] indices, SamplePipeline pipeline, int epoch, int batchIndex)
    {
        Tensor? images = null;
        try
        {
            var done = Transform(indices, pipeline, epoch, batchIndex, shape =>
            {
                images = empty(shape, ScalarType.Float32);
                return new TensorMemory(images).Memory;
            });
            if (done.Labels is null)
            {
                images?.Dispose();
                return new AssembledBatch(null, done.Skipped);
            }
            // With skipped images the batch is the filled front of the tensor.
            if (done.Shape[0] < indices.Length)
                using (var whole = images!) images = whole.narrow(0, 0, done.Shape[0]);
            return new AssembledBatch(new Batch(images!, done.Labels), done.Skipped);
        }
        catch
        {
            images?.Dispose();
            throw;
        }
    }

    /// <summary>A worker's batch: pixels in a staging buffer, to become a tensor on the consumer's thread.</summary>
    StagedBatch Stage(PlannedBatch batch, int epoch, int batchIndex)
    {
        float[]? pixels = null;
        try
        {
            var done = Transform(batch.Indices, batch.Pipeline, epoch, batchIndex, shape =>
            {
                int length = (int)(shape[0] * shape[1] * shape[2] * shape[3]);
                pixels = _staging.Rent(length);
                return pixels.AsMemory(0, length);
            });
            if (done.Labels is null)
            {
                if (pixels is not null) _staging.Return(pixels);
                return new StagedBatch(null, [], null, done.Skipped);
            }
            return new StagedBatch(pixels, done.Shape, done.Labels, done.Skipped);
        }
        catch
        {
            if (pixels is not null) _staging.Return(pixels);
            throw;
        }
    }

    /// <summary>
    /// Copies a staged batch into a tensor allocated on this (the consumer's) thread. A tensor
    /// allocated on a worker would come from that thread's malloc arena, whose spare heaps
    /// glibc unmaps once free, so every batch would page-fault its memory afresh (a one-worker
    /// loader ran at half the single-thread chain's speed); the consumer's arena keeps it.
    /// </summary>
    AssembledBatch Materialize(StagedBatch staged)
    {
        if (staged.Pixels is null) return new AssembledBatch(null, staged.Skipped);
        var images = empty(staged.Shape, ScalarType.Float32);
        MemoryMarshal.AsBytes(staged.Pixels.AsSpan(0, (int)images.numel())).CopyTo(images.bytes);
        _staging.Return(staged.Pixels);
        return new AssembledBatch(new Batch(images, staged.Labels!), staged.Skipped);
    }

    /// <summary>
    /// What <see cref="Transform"/> made: the [N, C, H, W] of the images written (the front of the
    /// buffer) and their labels tensor (null, with no shape, when all were skipped).
    /// </summary>
    sealed record TransformedBatch(long[] Shape, Tensor? Labels, List<string> Skipped);

    /// <summary>
    /// Reads and transforms one batch's images and writes each (normalised, CHW) into the
    /// buffer that <paramref name="allocate"/> gives for the first image's [N, C, H, W], right
    /// after its own ops while its pixels are still in cache; then applies the batch ops there.
    /// </summary>
    TransformedBatch Transform(int[] indices, SamplePipeline pipeline, int epoch, int batchIndex, Func<long[], Memory<float>> allocate)
    {
        var skipped = new List<string>();
        var kept = new List<int>(indices.Length);
        var labels = new List<long>(indices.Length); // a class id, or the label an op set (label_key)
        Memory<float> pixels = default;
        int c = 0, h = 0, w = 0;
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
                using var sample = pipeline.Run(bytes, source, rng);
                if (kept.Count == 0)
                {
                    (c, h, w) = SamplePipeline.Shape(sample.Image!);
                    pixels = allocate([indices.Length, c, h, w]);
                }
                int length = c * h * w;
                _pipeline.WriteChw(sample.Image!, pixels.Span.Slice(kept.Count * length, length), source);
                kept.Add(index);
                labels.Add(_dataset.LabelKey is { } key ? sample.OpLabels[key] : _dataset.Label(index));
            }
            catch (BadImageException e)
            {
                if (_dataset.OnBadImage == BadImagePolicy.Error)
                    throw new PpclsUserException($"{e.Message} (set on_bad_image: skip in the dataset to skip such files)");
                skipped.Add(source);
            }
            catch (UserInputException)
            {
                throw;
            }
            catch (Exception e)
            {
                throw new PpclsUserException($"{source}: transform_ops failed: {e.Message}");
            }
        }
        if (kept.Count == 0) return new TransformedBatch([], null, skipped);
        int n = kept.Count;
        var targets = _dataset is IMultiLabelDataset multiLabel
            ? MultiLabelTensor(multiLabel, kept)
            : LabelTensor(pixels[..(n * c * h * w)], n, c, h, w, [.. labels], epoch, batchIndex);
        return new TransformedBatch([n, c, h, w], targets, skipped);
    }

    /// <summary>The items' float targets stacked: [N, ..TargetShape] (multi-label data sets take no batch ops).</summary>
    static Tensor MultiLabelTensor(IMultiLabelDataset dataset, List<int> indices)
    {
        int width = (int)dataset.TargetShape.Aggregate(1L, (a, b) => a * b);
        var values = new float[indices.Count * width];
        for (int i = 0; i < indices.Count; i++) dataset.WriteTarget(indices[i], values.AsSpan(i * width, width));
        return tensor(values, [indices.Count, .. dataset.TargetShape], ScalarType.Float32);
    }

    /// <summary>Applies the batch ops to the written images and returns the labels tensor (soft labels when there are batch ops).</summary>
    Tensor LabelTensor(Memory<float> pixels, int n, int c, int h, int w, long[] labels, int epoch, int batchIndex)
    {
        if (_batchOps.Count == 0) return tensor(labels, [n], ScalarType.Int64);

        var mix = new MixBatch(pixels, n, c, h, w, labels, ClassNum);
        var rng = SampleRandom.For(Seed, SampleRandom.BatchStream, epoch, batchIndex);
        foreach (var op in _batchOps) op.Apply(mix, rng);
        // OpSampler may choose no op: keep the label format (soft) the same for every batch.
        if (mix.SoftLabels is null) mix.MixLabels([.. Enumerable.Range(0, n)], 1.0);
        return tensor(mix.SoftLabels!, [n, ClassNum], ScalarType.Float32);
    }

    public void Dispose()
    {
        _workerRun?.Dispose();
        _workerRun = null;
    }
}
