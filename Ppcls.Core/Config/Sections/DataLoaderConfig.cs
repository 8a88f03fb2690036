namespace Ppcls.Core.Config.Sections;

/// <summary>`sampler`: how a data set is cut into batches.</summary>
public sealed record SamplerConfig(string Name, int BatchSize, bool DropLast, bool Shuffle)
{
    public static readonly string[] Names = ["DistributedBatchSampler", "BatchSampler"];

    public static SamplerConfig Read(ConfigSection s, Action<string> notice)
    {
        var sampler = new SamplerConfig(
            s.Choice("name", "DistributedBatchSampler", Names),
            s.RequiredInt("batch_size", "64"),
            s.Bool("drop_last", false),
            s.Bool("shuffle", false));
        if (sampler.BatchSize < 1)
            throw ConfigException.At(s.KeyPath("batch_size"), s.Raw("batch_size")?.Location, $"must be at least 1, got {sampler.BatchSize}");
        s.Finish(notice);
        return sampler;
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

/// <summary>`DataLoader`: the Train and Eval loaders (and SSLD's UnLabelTrain).</summary>
public sealed record DataLoaderConfig(LoaderConfig? Train, LoaderConfig? Eval, LoaderConfig? UnLabelTrain)
{
    static readonly string[] PaddleOnlyKeys = ["mean", "std"];

    public static DataLoaderConfig Read(ConfigSection s, Action<string> notice)
    {
        var config = new DataLoaderConfig(
            s.OptionalSection("Train") is { } t ? LoaderConfig.Read(t, notice) : null,
            s.OptionalSection("Eval") is { } e ? LoaderConfig.Read(e, notice) : null,
            s.OptionalSection("UnLabelTrain") is { } u ? LoaderConfig.Read(u, notice) : null);
        s.Finish(notice, PaddleOnlyKeys);
        return config;
    }
}
