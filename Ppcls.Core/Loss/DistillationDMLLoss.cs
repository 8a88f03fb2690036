using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>DistillationDMLLoss</c> (deep mutual learning): for each pair, after <c>act</c>
/// (softmax, sigmoid or none), the symmetric KL divergence
/// (KL(p1 || p2) + KL(p2 || p1)) / 2 with PaddleClas's eps = 1e-12 inside the log, each
/// element scaled by the class count and averaged over all elements (so: per-sample sums
/// averaged over the batch); with <c>sum_across_class_dim</c> the class sum is taken before the
/// mean instead. Logged as <c>DMLLoss_Student_Teacher_0</c>.
/// </summary>
public sealed class DistillationDMLLoss(IReadOnlyList<ModelPair> pairs, string? act, bool sumAcrossClassDim, string? key) : ILossTerm
{
    const double Eps = 1e-12;

    public string Name => "DistillationDMLLoss";
    public bool UsesLabels => false;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target) =>
        ModelPair.Terms(pairs, output, key, Name, (i, pair, first, second) =>
        {
            var x = OutputActivation.Apply(first, act);
            var y = OutputActivation.Apply(second, act);
            var loss = (KlDiv(x, y) + KlDiv(y, x)) / 2;
            return ($"DMLLoss_{pair}_{i}", sumAcrossClassDim ? loss.sum(1).mean() : loss.mean());
        });

    /// <summary>PaddleClas's element-wise target * log((target + eps) / (x + eps)) * class_num.</summary>
    static Tensor KlDiv(Tensor x, Tensor target) => target * ((target + Eps) / (x + Eps)).log() * x.shape[^1];
}
