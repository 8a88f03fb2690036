using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>Target helpers shared by the cross-entropy losses.</summary>
static class SoftTargets
{
    /// <summary>A float target shaped [N, C] is a soft target; integer ids are hard labels.</summary>
    public static bool IsSoft(Tensor target, long classes) =>
        target.is_floating_point() && target.dim() == 2 && target.shape[1] == classes;

    /// <summary>Class ids [N] or [N, 1] as int64 [N].</summary>
    public static Tensor Ids(Tensor target) => target.reshape(-1).to_type(ScalarType.Int64);

    /// <summary>[N, C] probabilities: one-hot for hard labels, the target itself for soft ones.</summary>
    public static Tensor Dense(Tensor target, long classes, ScalarType dtype) =>
        IsSoft(target, classes) ? target.to_type(dtype) : nn.functional.one_hot(Ids(target), classes).to_type(dtype);

    /// <summary>Paddle <c>F.label_smooth</c>: (1 - eps) * target + eps / C.</summary>
    public static Tensor Smooth(Tensor dense, double epsilon, long classes) =>
        dense * (1 - epsilon) + epsilon / classes;

    /// <summary>Per-sample -sum(target * log_softmax(logits)).</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor dense) =>
        -(nn.functional.log_softmax(logits, -1) * dense).sum(-1);
}
