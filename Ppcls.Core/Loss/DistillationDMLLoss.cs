using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>DistillationDMLLoss</c> (deep mutual learning): for each pair, after <c>act</c>
/// (softmax, sigmoid or none), the symmetric KL divergence
/// (KL(p1 || p2) + KL(p2 || p1)) / 2 with PaddleClas's eps = 1e-12 inside the log, each
/// element scaled by the class count and averaged over all elements (so: per-sample sums
/// averaged over the batch); with <c>sum_across_class_dim</c> the class sum is taken before the
/// mean instead. With <c>weight_ratio</c> (multi-label distillation, PULC attributes) each element is
/// weighted as MultiLabelLoss weighs it (<see cref="MultiLabelLoss.RatioWeights"/>) from the batch's
/// [N, 2, C] label_ratio target. Logged as <c>DMLLoss_Student_Teacher_0</c>.
/// </summary>
public sealed class DistillationDMLLoss(IReadOnlyList<ModelPair> pairs, string? act, bool sumAcrossClassDim, string? key, bool weightRatio = false) : ILossTerm
{
    const double Eps = 1e-12;

    public string Name => "DistillationDMLLoss";
    public bool UsesLabels => weightRatio;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target)
    {
        if (weightRatio && target.dim() != 3)
            throw new PpclsUserException("DistillationDMLLoss: weight_ratio: True weighs labels by their positive ratio, which the data set gives only with label_ratio: True; " +
                "add label_ratio: True to the MultiLabelDataset or set weight_ratio: False");
        return ModelPair.Terms(pairs, output, key, Name, (i, pair, first, second) =>
        {
            var x = OutputActivation.Apply(first, act);
            var y = OutputActivation.Apply(second, act);
            var loss = (KlDiv(x, y) + KlDiv(y, x)) / 2;
            if (weightRatio) loss = loss * MultiLabelLoss.RatioWeights(target.select(1, 0).to_type(loss.dtype), target.select(1, 1).to_type(loss.dtype));
            return ($"DMLLoss_{pair}_{i}", sumAcrossClassDim ? loss.sum(1).mean() : loss.mean());
        });
    }

    /// <summary>PaddleClas's element-wise target * log((target + eps) / (x + eps)) * class_num.</summary>
    static Tensor KlDiv(Tensor x, Tensor target) => target * ((target + Eps) / (x + Eps)).log() * x.shape[^1];
}
