using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// One loss term: logits [N, C] and a target (class ids [N] or [N, 1] as int64, or a soft
/// target [N, C] as float, e.g. from mixup/cutmix) to a loss tensor (a scalar unless the
/// loss's reduction is <c>none</c>). <see cref="Name"/> is the key PaddleClas logs it under.
/// </summary>
public interface IClassificationLoss
{
    string Name { get; }
    Tensor Compute(Tensor logits, Tensor target);
}
