using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>PaddleClas <c>DistillationGTCELoss</c>: CELoss of each named model against the labels, logged as <c>CELoss_Student</c>.</summary>
public sealed class DistillationGTCELoss(IReadOnlyList<string> modelNames, double? epsilon, string? key) : ILossTerm
{
    readonly CrossEntropyLoss _ce = new(epsilon);

    public string Name => "DistillationGTCELoss";
    public bool UsesLabels => true;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var model in modelNames)
            result[$"{_ce.Name}_{model}"] = _ce.Compute(output.Get(model, key, Name), target);
        return result;
    }
}
