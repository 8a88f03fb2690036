namespace Ppcls.Core.Config.Sections;

/// <summary>The sampler named by `sampler.name`, parsed once when the config is read.</summary>
public enum SamplerKind { DistributedBatch, Batch, MultiScale, PK, RandomIdentity, ClassBalanced }

/// <summary>
/// `sampler`: how a data set is cut into batches. DistributedBatchSampler and BatchSampler cut
/// it into `batch_size` pieces; MultiScaleSampler (PP-LCNetV2's recipe) also gives each batch an
/// image size (<see cref="MultiScale"/>), with <see cref="BatchSize"/> its `first_bs`.
/// </summary>
public sealed record SamplerConfig(SamplerKind Kind, int BatchSize, bool DropLast, bool Shuffle)
{
    public const string MultiScaleName = "MultiScaleSampler";
    public const string BatchSamplerName = "BatchSampler";
    public const string PKName = "PKSampler";
    public const string RandomIdentityName = "DistributedRandomIdentitySampler";

    /// <summary>Ppcls addition for imbalanced classification data: every class equally likely per draw.</summary>
    public const string ClassBalancedName = "ClassBalancedSampler";

    /// <summary>PaddleClas's sampler names, in the order error messages list them.</summary>
    static readonly (string Name, SamplerKind Kind)[] Kinds =
    [
        ("DistributedBatchSampler", SamplerKind.DistributedBatch), (BatchSamplerName, SamplerKind.Batch),
        (MultiScaleName, SamplerKind.MultiScale), (PKName, SamplerKind.PK), (RandomIdentityName, SamplerKind.RandomIdentity),
        (ClassBalancedName, SamplerKind.ClassBalanced),
    ];

    public static readonly string[] Names = [.. Kinds.Select(k => k.Name)];

    /// <summary>The `sampler.name` of <see cref="Kind"/>, for messages.</summary>
    public string Name => Kinds.First(k => k.Kind == Kind).Name;

    /// <summary>MultiScaleSampler's settings; null for the other samplers.</summary>
    public MultiScaleConfig? MultiScale { get; init; }

    /// <summary>
    /// PKSampler's `sample_per_id` / DistributedRandomIdentitySampler's `num_instances`: each batch
    /// holds batch_size / this many classes with this many images each (metric learning); null for
    /// the other samplers.
    /// </summary>
    public int? InstancesPerClass { get; init; }

    /// <summary>PKSampler's class draw (<c>sample_method</c>, <c>id_list</c>, <c>ratio</c>); null for the other samplers.</summary>
    public ClassDraw? ClassDraw { get; init; }

    public static SamplerConfig Read(ConfigSection s, Action<string> notice)
    {
        string name = s.Choice("name", "DistributedBatchSampler", Names);
        var kind = Kinds.First(k => k.Name == name).Kind;
        if (kind == SamplerKind.MultiScale)
        {
            var multi = MultiScaleConfig.Read(s);
            var config = new SamplerConfig(kind, multi.FirstBatchSize, false, s.Bool("shuffle", true)) { MultiScale = multi };
            s.Finish(notice);
            return config;
        }
        var sampler = new SamplerConfig(
            kind,
            s.RequiredInt("batch_size", "64"),
            s.Bool("drop_last", false),
            s.Bool("shuffle", false));
        if (sampler.BatchSize < 1)
            throw ConfigException.At(s.KeyPath("batch_size"), s.Raw("batch_size")?.Location, $"must be at least 1, got {sampler.BatchSize}");
        if (kind is SamplerKind.PK or SamplerKind.RandomIdentity)
        {
            string key = kind == SamplerKind.PK ? "sample_per_id" : "num_instances";
            int perClass = s.RequiredInt(key, "4");
            if (perClass < 1 || sampler.BatchSize % perClass != 0)
                throw ConfigException.At(s.KeyPath(key), s.Raw(key)?.Location,
                    $"must be a positive divisor of batch_size ({sampler.BatchSize}), got {perClass}");
            sampler = sampler with
            {
                InstancesPerClass = perClass,
                DropLast = true,
                ClassDraw = kind == SamplerKind.PK ? ClassDraw.Read(s) : null,
            };
        }
        s.Finish(notice);
        return sampler;
    }
}

/// <summary>
/// MultiScaleSampler's keys: `scales` (sizes, each a number or [width, height]), `first_bs` (the
/// batch size at the first scale; the others keep width x height x batch constant),
/// `divided_factor` (training sizes are rounded down to a multiple of it) and `is_training`
/// (false: every batch has the first scale and `first_bs`).
/// </summary>
public sealed record MultiScaleConfig(IReadOnlyList<(int Width, int Height)> Scales, int FirstBatchSize, int DividedFactor, bool IsTraining)
{
    public static MultiScaleConfig Read(ConfigSection s)
    {
        var scales = ReadScales(s);
        int firstBs = s.RequiredInt("first_bs", "64");
        if (firstBs < 1) throw ConfigException.At(s.KeyPath("first_bs"), s.Raw("first_bs")?.Location, $"must be at least 1, got {firstBs}");
        int factor = s.Int("divided_factor", 32);
        if (factor < 1) throw ConfigException.At(s.KeyPath("divided_factor"), s.Raw("divided_factor")?.Location, $"must be at least 1, got {factor}");
        bool training = s.Bool("is_training", true);
        if (training && scales.FirstOrDefault(p => p.Width < factor || p.Height < factor) is { Width: > 0 } small)
            throw ConfigException.At(s.KeyPath("scales"), s.Raw("scales")?.Location,
                $"scale {small.Width}x{small.Height} is smaller than divided_factor {factor} (sizes are rounded down to a multiple of it); use larger scales or a smaller divided_factor");
        return new MultiScaleConfig(scales, firstBs, factor, training);
    }

    static List<(int Width, int Height)> ReadScales(ConfigSection s)
    {
        const string expected = "a list of sizes, each a number or [width, height], e.g. scales: [160, 192, 224]";
        var node = s.Raw("scales");
        if (node is null or ConfigScalar { IsNull: true })
            throw ConfigException.At(s.KeyPath("scales"), s.Location, "required key is missing; add it, e.g. scales: [160, 192, 224]");
        if (node is not ConfigList { Items.Count: > 0 } list) throw ConfigException.At(s.KeyPath("scales"), node.Location, $"expected {expected}");
        var scales = new List<(int, int)>();
        foreach (var item in list.Items)
        {
            List<ConfigNode> values = item switch
            {
                ConfigScalar one => [one],
                ConfigList pair when pair.Items.Count == 2 => pair.Items,
                _ => [],
            };
            var sizes = values.Select(v => v is ConfigScalar c && c.TryLong(out long n) && n is >= 1 and <= 65536 ? (int)n : 0).ToList();
            if (sizes.Count == 0 || sizes.Contains(0))
                throw ConfigException.At(s.KeyPath("scales"), item.Location ?? node.Location, $"expected {expected}; each size a positive integer");
            scales.Add(sizes.Count == 1 ? (sizes[0], sizes[0]) : (sizes[0], sizes[1]));
        }
        return scales;
    }
}

/// <summary>
/// One data loader (`DataLoader.Train`, `.Eval`, `.UnLabelTrain`): the data set (`name` plus
/// its own keys, including `transform_ops`, read by the data set registry), the sampler,
/// and the loader's worker count.
/// </summary>
public sealed record LoaderConfig(string DatasetName, ConfigSection Dataset, SamplerConfig Sampler, int NumWorkers)
{
    static readonly string[] PaddleOnlyLoaderKeys = ["use_shared_memory"];

    /// <summary>The loader's key path, e.g. `DataLoader.Train` for the section `DataLoader.Train.dataset`.</summary>
    public string KeyPath => Dataset.Path.EndsWith(".dataset", StringComparison.Ordinal) ? Dataset.Path[..^".dataset".Length] : Dataset.Path;

    public static LoaderConfig Read(ConfigSection s, Action<string> notice)
    {
        var dataset = s.RequiredSection("dataset", "{name: ImageNetDataset, image_root: ..., cls_label_path: ...}");
        string name = dataset.RequiredString("name", "ImageNetDataset");
        var sampler = SamplerConfig.Read(s.RequiredSection("sampler", "{name: DistributedBatchSampler, batch_size: 64}"), notice);
        int workers = 0;
        if (s.OptionalSection("loader") is { } loader)
        {
            workers = loader.Int("num_workers", 0);
            loader.Finish(notice, PaddleOnlyLoaderKeys);
        }
        s.Finish(notice);
        return new LoaderConfig(name, dataset, sampler, workers);
    }
}

/// <summary>
/// `DataLoader`: the Train and Eval loaders (and SSLD's UnLabelTrain). For retrieval, `Eval` may
/// instead hold PaddleClas's `Gallery` and `Query` loaders (<see cref="Gallery"/>, <see cref="Query"/>).
/// </summary>
public sealed record DataLoaderConfig(LoaderConfig? Train, LoaderConfig? Eval, LoaderConfig? UnLabelTrain)
{
    static readonly string[] PaddleOnlyKeys = ["mean", "std"];

    /// <summary>`DataLoader.Eval.Gallery`: the images retrieved from (retrieval eval).</summary>
    public LoaderConfig? Gallery { get; init; }
    /// <summary>`DataLoader.Eval.Query`: the images searched for in the gallery (retrieval eval).</summary>
    public LoaderConfig? Query { get; init; }

    /// <summary>The eval images a check can look at: `Eval`, else `Query`, else `Gallery`.</summary>
    public LoaderConfig? EvalImages => Eval ?? Query ?? Gallery;

    public static DataLoaderConfig Read(ConfigSection s, Action<string> notice)
    {
        LoaderConfig? eval = null, gallery = null, query = null;
        if (s.OptionalSection("Eval") is { } e)
        {
            if (e.Has("Gallery") || e.Has("Query"))
            {
                gallery = e.OptionalSection("Gallery") is { } g ? LoaderConfig.Read(g, notice) : null;
                query = e.OptionalSection("Query") is { } q ? LoaderConfig.Read(q, notice) : null;
                e.Finish(notice);
            }
            else eval = LoaderConfig.Read(e, notice);
        }
        var config = new DataLoaderConfig(
            s.OptionalSection("Train") is { } t ? LoaderConfig.Read(t, notice) : null,
            eval,
            s.OptionalSection("UnLabelTrain") is { } u ? LoaderConfig.Read(u, notice) : null) { Gallery = gallery, Query = query };
        s.Finish(notice, PaddleOnlyKeys);
        return config;
    }
}

/// <summary>How PKSampler weighs classes when it draws each batch's P distinct classes.</summary>
public enum ClassWeighting
{
    /// <summary>`sample_avg_prob` (PaddleClas's default): a class's weight is its number of images.</summary>
    SampleAverage,

    /// <summary>`id_avg_prob`: every class weighs the same.</summary>
    IdAverage,
}

/// <summary>
/// PKSampler's class weights: <see cref="Weighting"/> (`sample_method`), then each class whose id lies in
/// one of `id_list`'s inclusive [start, end] ranges multiplied by that range's `ratio` entry.
/// </summary>
public sealed record ClassDraw(ClassWeighting Weighting, IReadOnlyList<(long Start, long End, double Ratio)> Boosts)
{
    public static ClassDraw Read(ConfigSection s)
    {
        string method = s.Choice("sample_method", "sample_avg_prob", "sample_avg_prob", "id_avg_prob");
        var ids = s.OptionalIntList("id_list");
        var ratios = s.OptionalDoubleList("ratio");
        var boosts = new List<(long, long, double)>();
        if (ids is { Count: > 0 } && ratios is { Count: > 0 })
        {
            if (ids.Count != ratios.Count * 2)
                throw ConfigException.At(s.KeyPath("id_list"), s.Raw("id_list")?.Location,
                    $"needs two ids (start, end) per ratio: {ratios.Count} ratio(s) need {ratios.Count * 2} ids, got {ids.Count}");
            for (int r = 0; r < ratios.Count; r++)
            {
                if (ids[2 * r] > ids[2 * r + 1] || ratios[r] < 0)
                    throw ConfigException.At(s.KeyPath("id_list"), s.Raw("id_list")?.Location,
                        $"range {r + 1} [{ids[2 * r]}, {ids[2 * r + 1]}] with ratio {ratios[r]}: start must not exceed end and ratio must be non-negative");
                boosts.Add((ids[2 * r], ids[2 * r + 1], ratios[r]));
            }
        }
        return new ClassDraw(method == "id_avg_prob" ? ClassWeighting.IdAverage : ClassWeighting.SampleAverage, boosts);
    }

    /// <summary>The weight of class <paramref name="label"/> holding <paramref name="images"/> images (first matching range wins, as in PaddleClas).</summary>
    public double Weight(long label, int images)
    {
        double weight = Weighting == ClassWeighting.SampleAverage ? images : 1.0;
        foreach (var (start, end, ratio) in Boosts)
            if (label >= start && label <= end) return weight * ratio;
        return weight;
    }
}
