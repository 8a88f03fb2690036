using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>TripletLoss</c> (Hermans et al., batch-hard): Euclidean distances between the
/// batch's <c>features</c>; per anchor the farthest positive (same label, itself included) and
/// the nearest negative; loss = mean(max(0, d(a, p) - d(a, n) + margin)), margin 1.0 by default.
/// A batch needs several images per class (PKSampler / DistributedRandomIdentitySampler).
/// PaddleClas's <c>TripletLossV2</c> is the same with <paramref name="normalize"/> (`normalize_feature`,
/// its default): each feature is divided by (its L2 norm + 1e-12) first, so the embedding cannot
/// shrink to a point to satisfy the margin; margin 0.5 by default.
/// </summary>
public sealed class TripletLoss(double margin, bool normalize = false, string featureKey = "features", string name = "TripletLoss") : ILossTerm
{
    readonly MarginRankingLoss _ranking = new(margin);

    public string Name => name;
    public bool UsesLabels => true;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target)
    {
        var features = output.Get(null, featureKey, Name);
        if (normalize) features = features / (features.norm(1, keepdim: true, p: 2) + 1e-12);
        var distances = BatchHardMining.EuclideanDistances(features);
        var same = BatchHardMining.SameLabel(target);
        var positive = BatchHardMining.MaxWhere(distances, same);
        var negative = BatchHardMining.MinWhere(distances, same.logical_not());
        return new Dictionary<string, Tensor> { [Name] = _ranking.Compute(negative, positive, ones_like(negative)) };
    }
}
