using Ppcls.Core.Metric;

namespace Ppcls.Core.Config.Sections;

/// <summary>`Global`: run-wide settings, with PaddleClas's keys and defaults.</summary>
public sealed record GlobalConfig
{
    public string? Checkpoints { get; init; }
    public string? PretrainedModel { get; init; }
    public string OutputDir { get; init; } = "./output/";
    public DeviceKind Device { get; init; } = DeviceKind.Cpu;
    /// <summary>Ppcls addition: the strides of weights and image batches (channels_last: NHWC, what oneDNN's convolutions run fastest in).</summary>
    public MemoryFormat MemoryFormat { get; init; } = MemoryFormat.ChannelsLast;
    public int SaveInterval { get; init; } = 1;
    public bool EvalDuringTrain { get; init; } = true;
    public int EvalInterval { get; init; } = 1;
    public int StartEvalEpoch { get; init; }
    public int Epochs { get; init; }
    public int PrintBatchStep { get; init; } = 10;
    public IReadOnlyList<int> ImageShape { get; init; } = [3, 224, 224];
    public string SaveInferenceDir { get; init; } = "./inference";
    public long? Seed { get; init; }
    /// <summary>Gradient accumulation: optimizer step every N iterations.</summary>
    public int UpdateFreq { get; init; } = 1;
    public EvalMode EvalMode { get; init; } = EvalMode.Classification;
    /// <summary>Retrieval's embedding: `retrieval_feature_from`, `feature_normalize`, `feature_binarize`.</summary>
    public RetrievalOptions Retrieval { get; init; } = RetrievalOptions.Default;
    /// <summary>Ppcls addition: stop after this many evaluations without a better metric.</summary>
    public int? EarlyStopPatience { get; init; }
    /// <summary>Ppcls addition: intra-op CPU threads; null leaves libtorch's default (all cores).</summary>
    public int? NumThreads { get; init; }
    /// <summary>Ppcls addition: write TensorBoard scalars under `&lt;output_dir&gt;/&lt;Arch.name&gt;/tensorboard/`.</summary>
    public bool UseTensorboard { get; init; }
    /// <summary>Weights that do not fit the model (missing, unexpected or mis-shaped keys) are an error unless false.</summary>
    public bool StrictLoad { get; init; } = true;
    public SaveFormat SaveFormat { get; init; } = SaveFormat.Safetensors;
    /// <summary>`use_multilabel`: labels are 0/1 vectors (MultiLabelDataset), losses and metrics are multi-label ones.</summary>
    public bool UseMultilabel { get; init; }
    /// <summary>
    /// Ppcls addition, `dist_timeout_s`: under mpirun, how long a collective (gradient all-reduce, SyncBN, eval
    /// sums) waits for the slowest rank before the job ends naming the silent ranks.
    /// </summary>
    public TimeSpan CollectiveTimeout { get; init; } = TimeSpan.FromSeconds(600);
    /// <summary>
    /// Ppcls addition, `dist_bucket_mb`: under mpirun, the size of the gradient buckets each reduced by one
    /// all-reduce as soon as backward has filled it (DDP's `bucket_cap_mb`, Paddle DataParallel's `comm_buffer_size`; default 25).
    /// </summary>
    public double DistBucketMegabytes { get; init; } = 25;

    /// <summary>Keys PaddleClas has that change nothing in Ppcls (accepted with a notice).</summary>
    public static readonly string[] PaddleOnlyKeys =
    [
        "use_visualdl", "to_static", "use_dali", "distributed", "print_mem_info", "export_for_fd",
        "iter_per_epoch", "warmup_iter", "image_channel", "sim_block_size", "infer_imgs", "class_num",
    ];

    public static GlobalConfig Read(ConfigSection s, Action<string> notice)
    {
        var config = new GlobalConfig
        {
            Checkpoints = s.OptionalString("checkpoints"),
            PretrainedModel = s.OptionalString("pretrained_model"),
            OutputDir = s.String("output_dir", "./output/"),
            Device = s.Choice("device", DeviceKind.Cpu),
            MemoryFormat = s.Choice("memory_format", MemoryFormat.ChannelsLast),
            SaveInterval = Positive(s, "save_interval", 1),
            EvalDuringTrain = s.Bool("eval_during_train", true),
            EvalInterval = Positive(s, "eval_interval", 1),
            StartEvalEpoch = s.Int("start_eval_epoch", 0),
            Epochs = Positive(s, "epochs", 1),
            PrintBatchStep = Positive(s, "print_batch_step", 10),
            ImageShape = s.OptionalIntList("image_shape") ?? [3, 224, 224],
            SaveInferenceDir = s.String("save_inference_dir", "./inference"),
            Seed = s.OptionalLong("seed"),
            UpdateFreq = Positive(s, "update_freq", 1),
            EvalMode = s.Choice("eval_mode", EvalMode.Classification),
            Retrieval = new RetrievalOptions(
                s.Choice("retrieval_feature_from", "features", "features", "backbone"),
                s.Bool("feature_normalize", true),
                s.Raw("feature_binarize") is ConfigScalar { IsNull: false } ? s.Choice("feature_binarize", "round", "round", "sign") : null),
            EarlyStopPatience = (int?)s.OptionalLong("early_stop_patience"),
            NumThreads = (int?)s.OptionalLong("num_threads"),
            UseTensorboard = s.Bool("use_tensorboard", false),
            StrictLoad = s.Bool("strict_load", true),
            SaveFormat = s.Choice("save_format", SaveFormat.Safetensors),
            UseMultilabel = s.Bool("use_multilabel", false),
            CollectiveTimeout = TimeSpan.FromSeconds(Positive(s, "dist_timeout_s", 600)),
            DistBucketMegabytes = s.Double("dist_bucket_mb", 25),
        };
        if (!(config.DistBucketMegabytes > 0))
            throw ConfigException.At(s.KeyPath("dist_bucket_mb"), s.Raw("dist_bucket_mb")?.Location,
                $"must be a positive size in MiB, e.g. 25 (DDP's default), got {config.DistBucketMegabytes}");
        if (config.ImageShape.Count != 3)
            throw ConfigException.At(s.KeyPath("image_shape"), s.Raw("image_shape")?.Location,
                "expected [channels, height, width], e.g. [3, 224, 224]");
        if (s.Bool("re_ranking", false))
            throw ConfigException.At(s.KeyPath("re_ranking"), s.Raw("re_ranking")?.Location,
                "k-reciprocal re-ranking is not built in Ppcls; set it to False (retrieval ranks by the plain similarity)");
        if (s.OptionalString("train_mode") is { } trainMode)
            throw ConfigException.At(s.KeyPath("train_mode"), s.Raw("train_mode")?.Location,
                $"'{trainMode}' training (PaddleClas's train_epoch_{trainMode}) is not supported in Ppcls, which trains supervised epochs only; remove the key");
        s.Finish(notice, PaddleOnlyKeys);
        return config;
    }

    static int Positive(ConfigSection s, string key, int fallback)
    {
        int v = s.Int(key, fallback);
        return v >= 1 ? v : throw ConfigException.At(s.KeyPath(key), s.Raw(key)?.Location, $"must be at least 1, got {v}");
    }
}
