using Ppcls.Core.Distributed;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// The 0/1 label vectors of a multi-label batch: [N, C], or the first row of MultiLabelDataset's
/// [N, 2, C] with label_ratio (the second row holds the ratios), as PaddleClas's `target[:, 0, :]`.
/// </summary>
public static class MultiLabelTargets
{
    public static Tensor Of(Tensor labels) => labels.dim() == 3 ? labels.select(1, 0) : labels;

    /// <summary>A [N, C] tensor's values as float64, row-major.</summary>
    public static double[] Values(Tensor rows) => rows.detach().to_type(ScalarType.Float64).contiguous().cpu().data<double>().ToArray();
}

/// <summary>Scores and 0/1 labels of every eval image, kept row by row for a whole-set metric and gathered over ranks.</summary>
public sealed class MultiLabelRows
{
    readonly List<double> _scores = [];
    readonly List<double> _labels = [];

    /// <summary>Labels per row (the class count); 0 before the first batch.</summary>
    public int Width { get; private set; }

    public void Clear()
    {
        _scores.Clear();
        _labels.Clear();
        Width = 0;
    }

    public void Add(Tensor scores, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var targets = MultiLabelTargets.Of(labels);
        if (targets.shape[0] != scores.shape[0] || targets.shape[^1] != scores.shape[^1])
            throw new PpclsUserException($"multi-label metric: the model gives {scores.shape[^1]} outputs per image but the labels have {targets.shape[^1]}; " +
                "set Arch.class_num to the number of labels per line");
        Width = (int)scores.shape[^1];
        _scores.AddRange(MultiLabelTargets.Values(scores));
        _labels.AddRange(MultiLabelTargets.Values(targets));
    }

    /// <summary>Every rank's rows in rank order: (scores, labels, width); empty without any row.</summary>
    public (double[] Scores, double[] Labels, int Width) Gather(ICommunicator world)
    {
        int width = (int)RankGather.Values(world, [Width]).Max();
        return (RankGather.Values(world, _scores), RankGather.Values(world, _labels), width);
    }
}
