using Ppcls.Core.Data;

namespace Ppcls.Data.Datasets;

/// <summary>
/// A labelled list of encoded images (ImageNetDataset, ...). Indexing is cheap; reading an
/// item's bytes is the only disk access after construction.
/// </summary>
public interface IDataset
{
    int Count { get; }

    /// <summary>The class id of item <paramref name="index"/>.</summary>
    long Label(int index);

    /// <summary>Where item <paramref name="index"/> comes from, for messages (its file path).</summary>
    string Describe(int index);

    /// <summary>The item's encoded bytes (a JPEG/PNG file's content).</summary>
    byte[] Read(int index);

    /// <summary>What to do with an image that cannot be decoded.</summary>
    BadImagePolicy OnBadImage { get; }

    /// <summary>The labels' list file, distinct count and maximum (null where the data set has no list file).</summary>
    LabelSummary? LabelSummary => null;

    /// <summary>
    /// The sample key whose value, set by an op of `transform_ops` (<see cref="Ops.ILabellingOp"/>),
    /// is the label instead of <see cref="Label"/> (CustomLabelDataset's `label_key`); null for a listed label.
    /// </summary>
    string? LabelKey => null;

    /// <summary>Each item's camera id (VeriWild lists with a third column), in item order; null where the list gives none.</summary>
    IReadOnlyList<long>? Cameras => null;
}

/// <summary>`on_bad_image`: fail naming the file, or skip it and report the count at epoch end.</summary>
public enum BadImagePolicy
{
    Error,
    Skip,
}
