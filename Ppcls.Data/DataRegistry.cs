using Ppcls.Core.Config;
using Ppcls.Data.BatchOps;
using Ppcls.Data.Datasets;
using Ppcls.Data.Ops;

namespace Ppcls.Data;

/// <summary>What a data factory may use besides its own options.</summary>
public sealed record DataBuildContext(DataRegistry Registry, int ClassNum, Action<string> Notice);

/// <summary>Builds an entry from its options section; reads every key it accepts (the caller or the factory finishes the section).</summary>
public delegate T DataFactory<out T>(ConfigSection options, DataBuildContext context);

/// <summary>
/// The data registries: data sets (`DataLoader.*.dataset.name`), per-sample transform ops
/// (`transform_ops`) and batch ops (`batch_transform_ops`), typed with the ops' own interfaces.
/// Filled through one explicit call (<see cref="DataCatalog.RegisterAll"/>).
/// </summary>
public sealed class DataRegistry
{
    public NameTable<DataFactory<IDataset>> Datasets { get; } = new("data set");
    public NameTable<DataFactory<IImageOp>> TransformOps { get; } = new("transform op");
    public NameTable<DataFactory<IBatchOp>> BatchOps { get; } = new("batch op");

    /// <summary>Builds every op of a PaddleClas single-key op list, validating each op's keys.</summary>
    public IReadOnlyList<T> BuildList<T>(NameTable<DataFactory<T>> table, IReadOnlyList<NamedEntry> entries, DataBuildContext context, string listPath)
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
