using Ppcls.Core.Config.Sections;

namespace Ppcls.Core.Data;

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
