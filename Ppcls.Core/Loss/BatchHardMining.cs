using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>Per anchor of a batch, the hardest positive and negative of a pairwise [N, N] matrix by label.</summary>
static class BatchHardMining
{
    /// <summary>[N, N]: whether samples i and j share a label.</summary>
    public static Tensor SameLabel(Tensor labels)
    {
        var ids = labels.reshape(-1);
        return ids.unsqueeze(1).eq(ids.unsqueeze(0));
    }

    /// <summary>Per row, the largest value where <paramref name="mask"/> holds (an empty row gives -inf).</summary>
    public static Tensor MaxWhere(Tensor values, Tensor mask) =>
        values.masked_fill(mask.logical_not(), double.NegativeInfinity).max(1).values;

    /// <summary>Per row, the smallest value where <paramref name="mask"/> holds (an empty row gives +inf).</summary>
    public static Tensor MinWhere(Tensor values, Tensor mask) =>
        values.masked_fill(mask.logical_not(), double.PositiveInfinity).min(1).values;

    /// <summary>Euclidean distances between the rows, with PaddleClas's clip at 1e-12 before the square root.</summary>
    public static Tensor EuclideanDistances(Tensor x)
    {
        var squared = x.pow(2).sum(1, keepdim: true);
        var distances = squared + squared.t() - 2 * x.matmul(x.t());
        return distances.clamp_min(1e-12).sqrt();
    }
}
