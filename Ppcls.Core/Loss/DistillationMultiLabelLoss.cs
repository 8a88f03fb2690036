using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>DistillationMultiLabelLoss</c>: MultiLabelLoss (epsilon, size_sum, weight_ratio) of each
/// model in <c>model_names</c> (its <c>key</c> output, if set) against the labels, logged as
/// <c>MultiLabelLoss_Student</c>.
/// </summary>
public sealed class DistillationMultiLabelLoss(IReadOnlyList<string> modelNames, MultiLabelLoss loss, string? key) : ILossTerm
{
    public string Name => "DistillationMultiLabelLoss";
    public bool UsesLabels => true;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var model in modelNames)
            result[$"{loss.Name}_{model}"] = loss.Compute(output.Get(model, key, Name), target);
        return result;
    }
}
