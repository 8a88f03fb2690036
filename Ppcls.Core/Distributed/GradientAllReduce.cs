using System.Diagnostics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>
/// Averages the gradients of every trainable parameter over the ranks, as PyTorch's DDP and Paddle's
/// DataParallel do. The parameters are packed, last layer first (the order backward finishes them),
/// into flat float32 buckets: the first of at most <see cref="FirstBucketBytes"/> so that communication
/// starts early, the last (the first layers, ready only when backward ends) as small, the others of about
/// the configured size (`Global.dist_bucket_mb`). Each bucket is packed divided by the rank count and
/// summed with one all-reduce, which gives the mean; a parameter without a gradient contributes zeros.
/// <para>
/// Overlap: built on a model, it watches backward. Forward pre-hooks put a <see cref="GradientReadySignal"/>
/// on the input of the modules around the parameters of every bucket but the last (<see cref="Watch"/>);
/// when backward has finished all of them, the bucket is packed and its all-reduce started
/// (<see cref="ICommunicator.StartAllReduceSum"/>) while backward goes on. Buckets start strictly in
/// order, so every rank starts the same collectives in the same order. <see cref="Run"/>, after backward,
/// starts the rest, waits for all and unpacks what is not unpacked yet.
/// </para>
/// </summary>
public sealed class GradientAllReduce : IDisposable
{
    /// <summary>25 MiB, DDP's and Paddle's default bucket size.</summary>
    public const long DefaultBucketBytes = 25L << 20;

    /// <summary>1 MiB, DDP's first bucket and Paddle's `last_comm_buffer_size`.</summary>
    public const long FirstBucketBytes = 1L << 20;

    sealed class Bucket(Tensor flat, Parameter[] parameters, Tensor[] views)
    {
        public Tensor Flat { get; } = flat;
        public Parameter[] Parameters { get; } = parameters;
        public Tensor[] Views { get; } = views;
        /// <summary>Per parameter, the watched modules from the one holding it outwards; null while the bucket is not watched.</summary>
        public WatchedModule[][]? Chains { get; set; }
        /// <summary>The running all-reduce of this step, until its mean has been copied into the gradients.</summary>
        public IPendingCollective? Pending { get; set; }
        /// <summary>When this step's all-reduce started, from <see cref="BeginStep"/>.</summary>
        public TimeSpan StartedAt { get; set; }

        /// <summary>
        /// Every parameter's gradient is final: the innermost module of its chain that ran forward in this step has
        /// finished backward. (A module that did not run, like PP-LCNetV2's training-time `dw_conv`, or a conv whose
        /// weight its parent applies itself, leaves its parameters to the enclosing module that ran.)
        /// </summary>
        public bool Ready => Chains is { } chains && chains.All(chain => chain.FirstOrDefault(m => m.Calls > 0) is { } ran && ran.Done);
    }

    /// <summary>A watched module's forward calls with a gradient-carrying input and its finished backwards in this step.</summary>
    sealed class WatchedModule
    {
        public int Calls { get; set; }
        public int Signals { get; set; }
        public bool Done => Calls > 0 && Signals == Calls;
    }

    readonly ICommunicator _communicator;
    readonly Bucket[] _buckets;
    readonly List<WatchedModule> _watched = [];
    readonly List<Action> _unhook = [];
    readonly Stopwatch _step = new();
    bool _armed;
    int _nextToStart;

    /// <summary>Buckets over <paramref name="parameters"/>, reduced after backward (<see cref="Run"/>) without watching it.</summary>
    public GradientAllReduce(ICommunicator communicator, IEnumerable<Parameter> parameters, long bucketBytes = DefaultBucketBytes)
    {
        if (bucketBytes < sizeof(float)) throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, "must hold at least one float");
        _communicator = communicator;
        var trainable = parameters.Where(p => p.requires_grad).Reverse().ToList();
        if (trainable.Any(p => p.dtype != ScalarType.Float32))
            throw new NotSupportedException("gradient all-reduce handles float32 parameters only");
        // The last bucket, the first layers' parameters, starts only after backward: it is kept as small as the first.
        long smallBucket = Math.Min(FirstBucketBytes, bucketBytes) / sizeof(float);
        int lastCount = 0;
        long lastElements = 0;
        foreach (var parameter in Enumerable.Reverse(trainable))
        {
            if (lastCount > 0 && lastElements + parameter.numel() > smallBucket) break;
            lastCount++;
            lastElements += parameter.numel();
        }
        var buckets = new List<Bucket>();
        var pending = new List<Parameter>();
        long pendingElements = 0;
        foreach (var parameter in trainable.SkipLast(lastCount))
        {
            long capacity = (buckets.Count == 0 ? Math.Min(FirstBucketBytes, bucketBytes) : bucketBytes) / sizeof(float);
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
        if (lastCount > 0) buckets.Add(MakeBucket(trainable.TakeLast(lastCount).ToList(), lastElements));
        _buckets = [.. buckets];
    }

    /// <summary>Buckets over <paramref name="model"/>'s trainable parameters, started during backward as they become ready.</summary>
    public GradientAllReduce(ICommunicator communicator, nn.Module model, long bucketBytes = DefaultBucketBytes)
        : this(communicator, model.named_parameters().Select(p => p.parameter), bucketBytes)
    {
        if (_buckets.Length > 1) Watch(model);
    }

    /// <summary>Parameters per bucket, in all-reduce order.</summary>
    public IReadOnlyList<int> BucketSizes => [.. _buckets.Select(b => b.Parameters.Length)];

    /// <summary>Elements per bucket, in all-reduce order.</summary>
    public IReadOnlyList<long> BucketElements => [.. _buckets.Select(b => b.Flat.numel())];

    /// <summary>
    /// Whether buckets start during backward (default); false starts them all in <see cref="Run"/>, as a plain
    /// all-reduce after backward (`ppcls benchmark dist` compares the two).
    /// </summary>
    public bool Overlap { get; set; } = true;

    /// <summary>Buckets whose start is tied to backward (the others start in <see cref="Run"/>).</summary>
    public int WatchedBuckets => _buckets.Count(b => b.Chains is not null);

    /// <summary>Calls of <see cref="Run"/> so far.</summary>
    public long Runs { get; private set; }

    /// <summary>The time of the last <see cref="Run"/>: the all-reduce not hidden behind backward.</summary>
    public TimeSpan LastElapsed { get; private set; }

    /// <summary>Buckets the last step started during backward (before <see cref="Run"/>).</summary>
    public int LastStartedDuringBackward { get; private set; }

    /// <summary>
    /// When each bucket's all-reduce started in the last step, as a share of the time from <see cref="BeginStep"/> to
    /// <see cref="Run"/> (forward and backward): 1 for those started after backward. The scaling model reads them.
    /// </summary>
    public IReadOnlyList<double> LastStartShares { get; private set; } = [];

    /// <summary>
    /// Called before a step's forward: <paramref name="reduceAfterBackward"/> is true when <see cref="Run"/> follows its
    /// backward (the last micro-batch of `Global.update_freq`), and only then do buckets start during backward.
    /// </summary>
    public void BeginStep(bool reduceAfterBackward)
    {
        _step.Restart();
        _armed = reduceAfterBackward && Overlap && _watched.Count > 0;
        if (!_armed) return;
        foreach (var module in _watched) module.Calls = module.Signals = 0;
        _nextToStart = 0;
    }

    /// <summary>Replaces every parameter's gradient with its mean over the ranks: starts the buckets not started yet, waits for all.</summary>
    public void Run()
    {
        long start = Stopwatch.GetTimestamp();
        LastStartedDuringBackward = _nextToStart;
        var backwardEnd = _step.Elapsed;
        _armed = false;
        using (no_grad())
        using (NewDisposeScope())
        {
            while (_nextToStart < _buckets.Length) Start(_buckets[_nextToStart++]);
            foreach (var bucket in _buckets)
            {
                bucket.Pending?.Wait();
                Finish(bucket);
            }
        }
        _nextToStart = 0;
        LastStartShares = [.. _buckets.Select(b => backwardEnd > TimeSpan.Zero ? Math.Min(1, b.StartedAt / backwardEnd) : 1)];
        Runs++;
        LastElapsed = Stopwatch.GetElapsedTime(start);
    }

    /// <summary>Packs the bucket's gradients divided by the rank count (so the sum is the mean) and starts their sum.</summary>
    void Start(Bucket bucket)
    {
        for (int i = 0; i < bucket.Parameters.Length; i++)
        {
            if (bucket.Parameters[i].grad is { } grad) bucket.Views[i].copy_(grad);
            else bucket.Views[i].zero_();
        }
        bucket.Flat.mul_(1f / _communicator.Size);
        bucket.StartedAt = _step.Elapsed;
        bucket.Pending = _communicator.StartAllReduceSum(bucket.Flat);
    }

    /// <summary>Copies a completed bucket's mean into the gradients (a parameter without a gradient keeps none).</summary>
    static void Finish(Bucket bucket)
    {
        if (bucket.Pending is null) return;
        for (int i = 0; i < bucket.Parameters.Length; i++)
            bucket.Parameters[i].grad?.copy_(bucket.Views[i]);
        bucket.Pending = null;
    }

    /// <summary>
    /// Ties every bucket but the last (it is ready only when backward ends) to modules around its parameters. Each
    /// parameter is watched by the largest module that holds it and no parameter of another bucket (one signal for a
    /// whole block where a block fits in a bucket), then by the modules enclosing that one, whose backward covers
    /// it when it did not run itself. Only modules whose forward takes one tensor can be watched (Swin's window
    /// attention takes two, so its block watches its parameters).
    /// </summary>
    void Watch(nn.Module model)
    {
        var modules = new Dictionary<string, nn.Module> { [""] = model };
        foreach (var (name, module) in model.named_modules()) modules.TryAdd(name, module);
        var bucketOf = _buckets.SelectMany(b => b.Parameters.Select(p => (p.Handle, Bucket: b))).ToDictionary(e => e.Handle, e => e.Bucket);
        var ownerName = new Dictionary<IntPtr, string>();
        var bucketsWithin = modules.Keys.ToDictionary(n => n, _ => new HashSet<Bucket>());
        foreach (var (name, module) in modules)
            foreach (var (_, parameter) in module.named_parameters(recurse: false))
                if (bucketOf.TryGetValue(parameter.Handle, out var bucket) && ownerName.TryAdd(parameter.Handle, name))
                    foreach (var n in SelfAndEnclosing(name)) bucketsWithin[n].Add(bucket);

        var watchers = new Dictionary<string, WatchedModule>();
        WatchedModule Watcher(string name, nn.Module<Tensor, Tensor> module)
        {
            if (watchers.TryGetValue(name, out var watched)) return watched;
            watchers[name] = watched = new WatchedModule();
            _watched.Add(watched);
            _unhook.Add(module.register_forward_pre_hook((_, input) => Signalled(watched, input)).remove);
            return watched;
        }
        WatchedModule[] Chain(string owner)
        {
            // Outwards the modules hold more and more buckets: the widest one-tensor module holding only this bucket starts the chain.
            var path = SelfAndEnclosing(owner).ToList();
            int widest = path.FindLastIndex(n => bucketsWithin[n].Count == 1 && modules[n] is nn.Module<Tensor, Tensor>);
            return [.. path.Skip(Math.Max(widest, 0)).Where(n => modules[n] is nn.Module<Tensor, Tensor>).Select(n => Watcher(n, (nn.Module<Tensor, Tensor>)modules[n]))];
        }
        foreach (var bucket in _buckets[..^1])
            if (bucket.Parameters.All(p => ownerName.ContainsKey(p.Handle)))
                bucket.Chains = [.. bucket.Parameters.Select(p => Chain(ownerName[p.Handle]))];
    }

    /// <summary>A module's dotted name and those of the modules enclosing it, out to the model ("").</summary>
    static IEnumerable<string> SelfAndEnclosing(string name)
    {
        for (string? n = name; n is not null; n = n.Length == 0 ? null : n.LastIndexOf('.') is int dot and >= 0 ? n[..dot] : "")
            yield return n;
    }

    /// <summary>The forward pre-hook: counts the call and marks the input so that backward reports back.</summary>
    Tensor Signalled(WatchedModule module, Tensor input)
    {
        if (!_armed || !is_grad_enabled() || !input.requires_grad) return input;
        module.Calls++;
        return GradientReadySignal.Wrap(input, () => BackwardDone(module));
    }

    void BackwardDone(WatchedModule module)
    {
        if (!_armed || ++module.Signals != module.Calls) return;
        using (no_grad())
        using (NewDisposeScope())
        {
            // Buckets whose sum has arrived are unpacked now, while backward goes on, rather than after it.
            for (int b = 0; b < _nextToStart; b++)
                if (_buckets[b].Pending is { IsComplete: true }) Finish(_buckets[b]);
            while (_nextToStart < _buckets.Length && _buckets[_nextToStart].Ready)
                Start(_buckets[_nextToStart++]);
        }
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
        foreach (var remove in _unhook) remove();
        foreach (var bucket in _buckets)
        {
            foreach (var view in bucket.Views) view.Dispose();
            bucket.Flat.Dispose();
        }
    }
}
