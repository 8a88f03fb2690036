using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>
/// A model with several named outputs (DistillationModel, RecModel). Its <c>forward</c> returns
/// the primary output alone (what export and infer use); training and eval call
/// <see cref="ForwardOutputs"/> through <see cref="ModelOutput.Run"/>.
/// </summary>
public interface IMultiOutputModel
{
    /// <param name="labels">The batch's labels in training (PaddleClas passes them to a RecModel's margin head); null in eval.</param>
    ModelOutput ForwardOutputs(Tensor x, Tensor? labels = null);
}
