namespace Ppcls.Core.Data;

/// <summary>
/// A data loader for one rank: enumerates an epoch's batches in a fixed order. The same
/// (seed, epoch) gives the same batches whatever the worker count or thread timing.
/// Disposing an unfinished enumeration stops its workers.
/// </summary>
public interface IBatchSource : IDisposable
{
    /// <summary>Samples in the data set (before the sampler drops or pads any).</summary>
    int SampleCount { get; }

    /// <summary>Batches per epoch.</summary>
    int BatchCount { get; }

    /// <summary>Classes in the labels (Arch.class_num); soft labels have this width.</summary>
    int ClassNum { get; }

    /// <summary>The data set's labels (list file, distinct count, maximum), checked against Arch.class_num before training; null where unknown.</summary>
    LabelSummary? LabelSummary => null;

    /// <summary>The data set's image files in list order (empty where its images are no files, e.g. in memory).</summary>
    IEnumerable<string> ImageFiles => [];

    /// <summary>The data set's camera ids in list order (ReID lists), or null where it has none.</summary>
    IReadOnlyList<long>? Cameras => null;

    /// <summary>The batches of epoch <paramref name="epoch"/> (1-based as PaddleClas counts, any value works), in order.</summary>
    /// <param name="next">The epoch the caller will read after this one, if it knows: a loader may start assembling it early.</param>
    IEnumerable<Batch> Epoch(int epoch, int? next = null, CancellationToken cancel = default);
}
