using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>TripletLoss</c> (Hermans et al., batch-hard): Euclidean distances between the
/// batch's <c>features</c>; per anchor the farthest positive (same label, itself included) and
/// the nearest negative; loss = mean(max(0, d(a, p) - d(a, n) + margin)), margin 1.0 by default.
/// A batch needs several images per class (PKSampler / DistributedRandomIdentitySampler).
/// </summary>
public sealed class TripletLoss(double margin, string featureKey = "features") : ILossTerm
{
    readonly MarginRankingLoss _ranking = new(margin);

    public string Name => "TripletLoss";
    public bool UsesLabels => true;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target)
    {
        var features = output.Get(null, featureKey, Name);
        var distances = BatchHardMining.EuclideanDistances(features);
        var same = BatchHardMining.SameLabel(target);
        var positive = BatchHardMining.MaxWhere(distances, same);
        var negative = BatchHardMining.MinWhere(distances, same.logical_not());
        return new Dictionary<string, Tensor> { [Name] = _ranking.Compute(negative, positive, ones_like(negative)) };
    }
}
