using System.Diagnostics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>
/// Averages the gradients of every trainable parameter over the ranks after backward, as
/// PyTorch's DDP and Paddle's DataParallel do: the parameters are packed, last layer first (the
/// order backward finishes them), into flat float32 buckets of about <see cref="DefaultBucketBytes"/>,
/// and each bucket is summed with one all-reduce and divided by the rank count. A parameter
/// without a gradient contributes zeros. The buckets and their per-parameter views are made once.
/// </summary>
public sealed class GradientAllReduce : IDisposable
{
    /// <summary>25 MiB, DDP's default bucket size.</summary>
    public const long DefaultBucketBytes = 25L << 20;

    sealed record Bucket(Tensor Flat, Parameter[] Parameters, Tensor[] Views);

    readonly ICommunicator _communicator;
    readonly Bucket[] _buckets;
    readonly Stopwatch _clock = new();

    public GradientAllReduce(ICommunicator communicator, IEnumerable<Parameter> parameters, long bucketBytes = DefaultBucketBytes)
    {
        if (bucketBytes < sizeof(float)) throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, "must hold at least one float");
        _communicator = communicator;
        var trainable = parameters.Where(p => p.requires_grad).Reverse().ToList();
        if (trainable.Any(p => p.dtype != ScalarType.Float32))
            throw new NotSupportedException("gradient all-reduce handles float32 parameters only");
        var buckets = new List<Bucket>();
        var pending = new List<Parameter>();
        long pendingElements = 0, capacity = bucketBytes / sizeof(float);
        foreach (var parameter in trainable)
        {
            if (pending.Count > 0 && pendingElements + parameter.numel() > capacity)
            {
                buckets.Add(MakeBucket(pending, pendingElements));
                pending.Clear();
                pendingElements = 0;
            }
            pending.Add(parameter);
            pendingElements += parameter.numel();
        }
        if (pending.Count > 0) buckets.Add(MakeBucket(pending, pendingElements));
        _buckets = [.. buckets];
    }

    /// <summary>Parameters per bucket, in all-reduce order.</summary>
    public IReadOnlyList<int> BucketSizes => [.. _buckets.Select(b => b.Parameters.Length)];

    /// <summary>Elements per bucket, in all-reduce order.</summary>
    public IReadOnlyList<long> BucketElements => [.. _buckets.Select(b => b.Flat.numel())];

    /// <summary>Calls of <see cref="Run"/> so far.</summary>
    public long Runs { get; private set; }

    /// <summary>Time spent in <see cref="Run"/> (packing, all-reduce, unpacking) so far.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>The time of the last <see cref="Run"/>.</summary>
    public TimeSpan LastElapsed { get; private set; }

    /// <summary>Replaces every parameter's gradient with its mean over the ranks.</summary>
    public void Run()
    {
        var before = _clock.Elapsed;
        _clock.Start();
        using (no_grad())
        using (NewDisposeScope())
        {
            float scale = 1f / _communicator.Size;
            foreach (var bucket in _buckets)
            {
                for (int i = 0; i < bucket.Parameters.Length; i++)
                {
                    if (bucket.Parameters[i].grad is { } grad) bucket.Views[i].copy_(grad);
                    else bucket.Views[i].zero_();
                }
                _communicator.AllReduceSum(bucket.Flat);
                bucket.Flat.mul_(scale);
                for (int i = 0; i < bucket.Parameters.Length; i++)
                    bucket.Parameters[i].grad?.copy_(bucket.Views[i]);
            }
        }
        Runs++;
        _clock.Stop();
        LastElapsed = _clock.Elapsed - before;
    }

    static Bucket MakeBucket(List<Parameter> parameters, long elements)
    {
        var flat = zeros(elements, ScalarType.Float32, parameters[0].device);
        var views = new Tensor[parameters.Count];
        long offset = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            long n = parameters[i].numel();
            // The view takes the parameter's strides (NHWC in channels_last), so packing and unpacking are plain copies.
            views[i] = flat.as_strided(parameters[i].shape, parameters[i].stride(), offset);
            offset += n;
        }
        return new Bucket(flat, [.. parameters], views);
    }

    public void Dispose()
    {
        foreach (var bucket in _buckets)
        {
            foreach (var view in bucket.Views) view.Dispose();
            bucket.Flat.Dispose();
        }
    }
}
