using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Data.Datasets;
using Ppcls.Data.Loading;
using Ppcls.Data.Ops;

namespace Ppcls.Data;

/// <summary>
/// Builds a loader from `DataLoader.Train`/`.Eval`: every op and its keys, the batch ops and the
/// data set keys are validated first (ConfigException naming the key path), then the list file is
/// checked, then the largest batch against the memory available (<see cref="BatchMemoryCheck"/>);
/// no image is read until an epoch runs.
/// </summary>
public sealed class DataLoaderFactory(DataRegistry registry) : IDataLoaderBuilder
{
    public DataRegistry Registry { get; } = registry;

    /// <summary>The memory a batch may take (<see cref="BatchMemoryCheck"/>); null: unknown, not checked.</summary>
    public Func<long?> AvailableMemoryBytes { get; init; } = AvailableMemory.Bytes;

    public IBatchSource Build(LoaderConfig config, int classNum, long? seed, Action<string> notice) =>
        BuildLoader(config, classNum, seed, notice);

    public IBatchSource Build(LoaderConfig config, int classNum, long? seed, Action<string> notice, DataShard shard) =>
        BuildLoader(config, classNum, seed, notice, shard);

    /// <param name="shard">
    /// The rank's part of each epoch under data-parallel training. DistributedBatchSampler (and
    /// MultiScaleSampler, not yet) shard; BatchSampler gives every rank the whole list, as in PaddleClas.
    /// </param>
    public DataLoader BuildLoader(LoaderConfig config, int classNum, long? seed, Action<string> notice, DataShard? shard = null)
    {
        var s = config.Dataset;
        var context = new DataBuildContext(Registry, classNum, notice);
        var entries = TransformEntries(s);
        var ops = BuildOps(entries, s.KeyPath("transform_ops"), context);
        var pipeline = new SamplePipeline(ops, s.KeyPath("transform_ops"));
        var batchOps = s.OptionalNamedList("batch_transform_ops") is { } batchEntries
            ? Registry.BuildList(Registry.BatchOps, batchEntries, context, s.KeyPath("batch_transform_ops"))
            : [];
        if (batchOps.Count > 0 && classNum < 1)
            throw ConfigException.At(s.KeyPath("batch_transform_ops"), s.Location, "batch ops need Arch.class_num (the width of the soft labels)");
        var factory = Registry.Datasets.Get(config.DatasetName, s.KeyPath("name"), s.Map["name"]?.Location);
        CheckMultiScalePairing(config);
        if (config.NumWorkers < 0) throw new ConfigException($"num_workers must be 0 or more, got {config.NumWorkers}");
        var dataset = factory(s, context);
        s.Finish(notice);
        CheckLabelKey(dataset, ops, s, classNum);
        if (batchOps.Count > 0 && dataset is IMultiLabelDataset)
            throw ConfigException.At(s.KeyPath("batch_transform_ops"), s.Location,
                $"{config.DatasetName} gives 0/1 label vectors, which the batch ops (mixup, cutmix) do not mix in Ppcls or PaddleClas; remove batch_transform_ops");
        if (shard is { IsWhole: false } && config.Sampler.Kind == SamplerKind.Batch)
        {
            notice($"{config.KeyPath}.sampler.name is BatchSampler: each of the {shard.Count} ranks reads the whole list (as in PaddleClas); " +
                "use DistributedBatchSampler to split it across ranks");
            shard = null;
        }
        var loader = new DataLoader(dataset, pipeline, batchOps, config.Sampler, config.NumWorkers, classNum,
            seed ?? Random.Shared.NextInt64(), notice, shard);
        try
        {
            BatchMemoryCheck.Check(config, loader.BatchShapes, OutputSize(entries, ops), AvailableMemoryBytes());
        }
        catch
        {
            loader.Dispose();
            throw;
        }
        return loader;
    }

    /// <summary>The output size the last sized op sets, with its full key; null when no op sets it.</summary>
    static (OpenCvSharp.Size Size, string Key, bool Exact)? OutputSize(IReadOnlyList<NamedEntry> entries, IReadOnlyList<IImageOp> ops)
    {
        int last = ops.ToList().FindLastIndex(op => op is ISizedOp);
        if (last < 0) return null;
        var (size, key, exact) = ((ISizedOp)ops[last]).OutputSize;
        return (size, entries[last].Options.KeyPath(key), exact);
    }

    /// <summary>
    /// A data set whose labels come from an op (`label_key`) needs that op in its transforms, and a
    /// class_num that holds every label the op gives.
    /// </summary>
    static void CheckLabelKey(Datasets.IDataset dataset, IReadOnlyList<IImageOp> ops, ConfigSection s, int classNum)
    {
        if (dataset.LabelKey is not { } key) return;
        var labelling = ops.OfType<ILabellingOp>().ToList();
        var op = labelling.LastOrDefault(o => o.LabelKey == key)
            ?? throw ConfigException.At(s.KeyPath("label_key"), s.Map["label_key"]?.Location,
                labelling.Count == 0
                    ? $"no op in transform_ops sets '{key}'; add the op that labels the samples (BlurImage sets blur_image, RandomRot90 sets random_rot90_orientation)"
                    : $"no op in transform_ops sets '{key}'; the ops here set {string.Join(", ", labelling.Select(o => o.LabelKey))}");
        if (classNum > 0 && classNum < op.LabelCount)
            throw ConfigException.At("Arch.class_num", null, $"{op.Name} gives {op.LabelCount} labels ({key}: 0 .. {op.LabelCount - 1}) but class_num is {classNum}; set -o Arch.class_num={op.LabelCount}");
    }

    /// <summary>
    /// MultiScaleSampler hands out (width, height, index) items, which only MultiScaleDataset
    /// takes, and MultiScaleDataset needs them: PaddleClas fails on either alone, so both are
    /// config errors here.
    /// </summary>
    static void CheckMultiScalePairing(LoaderConfig config)
    {
        var s = config.Dataset;
        bool multiScaleSampler = config.Sampler.Kind == SamplerKind.MultiScale;
        bool multiScaleDataset = config.DatasetName == DataCatalog.MultiScaleDatasetName;
        if (multiScaleSampler == multiScaleDataset) return;
        string loader = config.KeyPath;
        throw multiScaleSampler
            ? ConfigException.At($"{loader}.sampler.name", null,
                $"{SamplerConfig.MultiScaleName} gives every batch its own image size, which only {DataCatalog.MultiScaleDatasetName} applies; set {s.KeyPath("name")}: {DataCatalog.MultiScaleDatasetName}")
            : ConfigException.At(s.KeyPath("name"), s.Map["name"]?.Location,
                $"{DataCatalog.MultiScaleDatasetName} takes each batch's image size from the sampler; set {loader}.sampler.name: {SamplerConfig.MultiScaleName} (with scales and first_bs), or use ImageNetDataset");
    }

    /// <summary>The `transform_ops` of a data set section (or an `Infer.transforms`-like list) as a pipeline.</summary>
    public SamplePipeline BuildPipeline(ConfigSection dataset, DataBuildContext context) =>
        BuildPipeline(TransformEntries(dataset), dataset.KeyPath("transform_ops"), context);

    static IReadOnlyList<NamedEntry> TransformEntries(ConfigSection dataset) =>
        dataset.OptionalNamedList("transform_ops")
            ?? throw ConfigException.At(dataset.KeyPath("transform_ops"), dataset.Location,
                "required key is missing; add e.g. transform_ops: [{DecodeImage: {to_rgb: True}}, {ResizeImage: {size: 224}}, {NormalizeImage: {}}]");

    /// <summary>A pipeline from an op list such as `Infer.transforms` (<paramref name="listPath"/> names it in errors).</summary>
    public SamplePipeline BuildPipeline(IReadOnlyList<NamedEntry> entries, string listPath, DataBuildContext context) =>
        new(BuildOps(entries, listPath, context), listPath);

    IReadOnlyList<IImageOp> BuildOps(IReadOnlyList<NamedEntry> entries, string listPath, DataBuildContext context) =>
        Registry.BuildList(Registry.TransformOps, entries, context, listPath);
}
