using static TorchSharp.torch;

namespace Ppcls.Core.Data;

/// <summary>
/// The same batch over and over, held in memory: the compute floor of a training step, with no
/// decoding or transforms. Each batch handed out is an alias of the held tensors (no copy), so the
/// consumer may dispose it as it disposes any batch; the held tensors live until this source is disposed.
/// </summary>
public sealed class InMemoryBatchSource : IBatchSource
{
    readonly Tensor _images;
    readonly Tensor _labels;

    /// <param name="images">NCHW float32 images of one batch (this source owns them and the labels from now on).</param>
    /// <param name="labels">int64 [N] class ids, or float32 [N, class_num] soft targets.</param>
    /// <param name="batchCount">Batches per epoch.</param>
    public InMemoryBatchSource(Tensor images, Tensor labels, int classNum, int batchCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchCount, 1);
        if (images.dim() != 4 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"expected NCHW images and one label per image, got {string.Join('x', images.shape)} and {string.Join('x', labels.shape)}");
        _images = images;
        _labels = labels;
        ClassNum = classNum;
        BatchCount = batchCount;
    }

    /// <summary>Random images (standard normal, as normalized pixels are) and random labels of the same kind as a real batch's.</summary>
    public static InMemoryBatchSource Random(long[] imageShape, bool softLabels, int classNum, int batchCount, long seed)
    {
        var generator = new Generator((ulong)seed);
        var images = randn(imageShape, generator: generator);
        long n = imageShape[0];
        var labels = softLabels
            ? SoftTargets(n, classNum, generator)
            : randint(classNum, [n], generator: generator);
        return new InMemoryBatchSource(images, labels, classNum, batchCount);
    }

    /// <summary>
    /// Random images (standard normal) beside <paramref name="labels"/>, a real batch's labels of any kind
    /// (class ids, mixed soft targets, multi-label vectors with or without label_ratio), which this source owns.
    /// </summary>
    public static InMemoryBatchSource RandomImages(long[] imageShape, Tensor labels, int classNum, int batchCount, long seed)
    {
        var generator = new Generator((ulong)seed);
        return new InMemoryBatchSource(randn(imageShape, generator: generator), labels, classNum, batchCount);
    }

    static Tensor SoftTargets(long n, int classNum, Generator generator)
    {
        using var raw = rand([n, classNum], generator: generator);
        return raw.softmax(1);
    }

    public int SampleCount => (int)_images.shape[0] * BatchCount;
    public int BatchCount { get; }

    /// <summary>The files the images stand for, where a caller names them (empty by default).</summary>
    public IEnumerable<string> ImageFiles { get; init; } = [];

    /// <summary>The images' camera ids, where a caller gives them (ReID lists).</summary>
    public IReadOnlyList<long>? Cameras { get; init; }
    public int ClassNum { get; }

    public IEnumerable<Batch> Epoch(int epoch, int? next = null, CancellationToken cancel = default)
    {
        for (int i = 0; i < BatchCount && !cancel.IsCancellationRequested; i++)
            yield return new Batch(_images.alias(), _labels.alias());
    }

    public void Dispose()
    {
        _images.Dispose();
        _labels.Dispose();
    }
}
