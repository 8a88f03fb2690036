using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>The options of <see cref="TripletAngularMarginLoss"/>, PaddleClas's names and defaults.</summary>
public sealed record TripletAngularMarginOptions(
    double Margin = 0.5,
    bool NormalizeFeature = true,
    LossReduction Reduction = LossReduction.Mean,
    bool AddAbsolute = false,
    double AbsoluteLossWeight = 1.0,
    double ApValue = 0.9,
    double AnValue = 0.5,
    string FeatureFrom = "features");

/// <summary>
/// PaddleClas <c>TripletAngularMarginLoss</c>: cosine similarities of the (L2-normalised)
/// features; per anchor the least similar positive s(a, p) and the most similar negative
/// s(a, n); ranking loss max(0, -(s(a, p) - s(a, n)) + margin) with <c>reduction</c>. With
/// <c>add_absolute</c>, (mean(max(0, ap_value - s(a, p))) + mean(an term)) *
/// absolute_loss_weight + mean(ranking) where the an term is s(a, n) - an_value where positive
/// and, as PaddleClas writes it, 1 elsewhere.
/// </summary>
public sealed class TripletAngularMarginLoss(TripletAngularMarginOptions options) : ILossTerm
{
    readonly MarginRankingLoss _ranking = new(options.Margin, options.Reduction);

    public string Name => "TripletAngularMarginLoss";
    public bool UsesLabels => true;
    public TripletAngularMarginOptions Options { get; } = options;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target)
    {
        var features = output.Get(null, Options.FeatureFrom, Name);
        if (Options.NormalizeFeature) features = features / features.norm(1, keepdim: true, p: 2);
        var similarity = features.matmul(features.t());
        var same = BatchHardMining.SameLabel(target);
        var positive = -BatchHardMining.MaxWhere(-similarity, same);
        var negative = BatchHardMining.MaxWhere(similarity, same.logical_not());
        var loss = _ranking.Compute(positive, negative, ones_like(negative));
        if (Options.AddAbsolute)
        {
            var ap = (Options.ApValue - positive).clamp_min(0);
            var an = negative - Options.AnValue;
            an = where(an > 0, an, ones_like(an));
            loss = (an.mean() + ap.mean()) * Options.AbsoluteLossWeight + loss.mean();
        }
        return new Dictionary<string, Tensor> { [Name] = loss };
    }
}
