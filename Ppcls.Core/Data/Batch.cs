using static TorchSharp.torch;

namespace Ppcls.Core.Data;

/// <summary>
/// One training or evaluation batch, owned by the caller (dispose it, or let the step's dispose scope take it).
/// <see cref="Images"/> is NCHW float32, contiguous. <see cref="Labels"/> is int64 [N] class ids, or
/// float32 [N, class_num] soft targets after a batch op such as MixupOperator (<see cref="SoftLabels"/>),
/// or MultiLabelDataset's float32 0/1 vectors [N, class_num] ([N, 2, class_num] with label_ratio).
/// </summary>
public sealed record Batch(Tensor Images, Tensor Labels) : IDisposable
{
    public int Count => (int)Images.shape[0];
    /// <summary>Float targets rather than class ids (mixed or multi-label).</summary>
    public bool SoftLabels => Labels.dim() >= 2;

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
