using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>DistillationDistanceLoss</c>: for each pair, after <c>act</c> (none, sigmoid or
/// softmax), the mean L1, L2 (squared error) or smooth-L1 distance between the two outputs,
/// logged as PaddleClas names it: <c>loss_l2_loss_l2_0</c>.
/// </summary>
public sealed class DistillationDistanceLoss(IReadOnlyList<ModelPair> pairs, string mode, string? act, string? key) : ILossTerm
{
    public string Name => "DistillationDistanceLoss";
    public bool UsesLabels => false;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target) =>
        ModelPair.Terms(pairs, output, key, Name, (i, _, first, second) =>
        {
            var x = OutputActivation.Apply(first, act);
            var y = OutputActivation.Apply(second, act);
            var loss = mode switch
            {
                "l1" => nn.functional.l1_loss(x, y),
                "smooth_l1" => nn.functional.smooth_l1_loss(x, y),
                _ => nn.functional.mse_loss(x, y),
            };
            return ($"loss_{mode}_loss_{mode}_{i}", loss);
        });
}
