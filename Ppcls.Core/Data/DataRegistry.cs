using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;

namespace Ppcls.Core.Data;

/// <summary>What a data factory may use besides its own options.</summary>
public sealed record DataBuildContext(DataRegistry Registry, int ClassNum, Action<string> Notice);

/// <summary>Builds an entry from its options section; reads every key it accepts (the caller or the factory finishes the section).</summary>
public delegate T DataFactory<out T>(ConfigSection options, DataBuildContext context);

/// <summary>name -> factory for one kind of data entry; an unknown name lists the valid ones.</summary>
public sealed class DataTable<T>(string kind)
{
    readonly SortedDictionary<string, DataFactory<T>> _entries = new(StringComparer.Ordinal);

    public string Kind { get; } = kind;
    public IEnumerable<string> Names => _entries.Keys;

    public void Register(string name, DataFactory<T> factory)
    {
        if (!_entries.TryAdd(name, factory))
            throw new InvalidOperationException($"{Kind} {name} is registered twice");
    }

    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>The factory for <paramref name="name"/>; <paramref name="keyPath"/> names the config key for the error.</summary>
    public DataFactory<T> Get(string name, string keyPath, SourceLocation? where = null) =>
        _entries.TryGetValue(name, out var factory)
            ? factory
            : throw ConfigException.At(keyPath, where,
                $"unknown {Kind} '{name}'; {KeySuggester.Hint(name, _entries.Keys)}valid names: {string.Join(", ", _entries.Keys)}");
}

/// <summary>
/// The data registries: data sets (`DataLoader.*.dataset.name`), per-sample transform ops
/// (`transform_ops`) and batch ops (`batch_transform_ops`). Filled by Ppcls.Data through one
/// explicit call (`DataCatalog.RegisterAll`); loaders are built through <see cref="IDataLoaderBuilder"/>.
/// </summary>
public sealed class DataRegistry
{
    public DataTable<IDataset> Datasets { get; } = new("data set");
    public DataTable<ITransformOp> TransformOps { get; } = new("transform op");
    public DataTable<IBatchOp> BatchOps { get; } = new("batch op");

    /// <summary>Builds every op of a PaddleClas single-key op list, validating each op's keys.</summary>
    public IReadOnlyList<T> BuildList<T>(DataTable<T> table, IReadOnlyList<NamedEntry> entries, DataBuildContext context, string listPath)
    {
        var built = new List<T>();
        foreach (var entry in entries)
        {
            string itemPath = entry.Options.Path.Length > entry.Name.Length + 1
                ? entry.Options.Path[..^(entry.Name.Length + 1)]
                : listPath;
            var op = table.Get(entry.Name, itemPath, entry.Options.Location)(entry.Options, context);
            entry.Options.Finish(context.Notice);
            built.Add(op);
        }
        return built;
    }
}

/// <summary>Builds a validated loader from a `DataLoader.Train`/`.Eval` section (implemented by Ppcls.Data).</summary>
public interface IDataLoaderBuilder
{
    /// <summary>
    /// Validates the whole loader config (data set keys, every op and its keys) and the list
    /// file before any image is read, then returns the loader.
    /// </summary>
    IBatchSource Build(LoaderConfig config, int classNum, long? seed, Action<string> notice);

    /// <summary>The same, loading only <paramref name="shard"/>'s part of each epoch (data-parallel training).</summary>
    IBatchSource Build(LoaderConfig config, int classNum, long? seed, Action<string> notice, DataShard shard) =>
        shard.IsWhole ? Build(config, classNum, seed, notice) : throw new NotSupportedException($"{GetType().Name} does not shard data across ranks");
}
