namespace Ppcls.Data.Datasets;

/// <summary>
/// A data set whose items carry a float target instead of one class id (MultiLabelDataset): the
/// loader collates <see cref="TargetShape"/>-shaped targets into a float32 [N, ..TargetShape] batch.
/// </summary>
public interface IMultiLabelDataset : IDataset
{
    /// <summary>One item's target shape: [class_num], or [2, class_num] with the label ratio row.</summary>
    long[] TargetShape { get; }

    /// <summary>Writes item <paramref name="index"/>'s target (row-major, <see cref="TargetShape"/>) into <paramref name="destination"/>.</summary>
    void WriteTarget(int index, Span<float> destination);
}
