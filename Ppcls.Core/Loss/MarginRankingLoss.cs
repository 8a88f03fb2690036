using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// Paddle's <c>MarginRankingLoss</c>: max(0, -y * (x1 - x2) + margin) per element, y = +1 where
/// x1 should rank above x2 and -1 where below, then the <paramref name="reduction"/> (mean by
/// default). The triplet losses compare their mined distances with it.
/// </summary>
public sealed class MarginRankingLoss(double margin, LossReduction reduction = LossReduction.Mean)
{
    public double Margin { get; } = margin;

    public Tensor Compute(Tensor x1, Tensor x2, Tensor y) =>
        reduction.Apply((-y * (x1 - x2) + Margin).clamp_min(0));
}
