using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>DistillationCELoss</c>: for each pair, CELoss of the first model's output against
/// the second's as a soft target (softmax of the teacher's logits; with <c>epsilon</c> the logits
/// are label-smoothed as given, as PaddleClas's CELoss does). Logged as <c>CELoss_Student_Teacher</c>.
/// Needs no labels: SSLD stage 1 trains on unlabeled images with it.
/// </summary>
public sealed class DistillationCELoss(IReadOnlyList<ModelPair> pairs, double? epsilon, string? key) : ILossTerm
{
    readonly CrossEntropyLoss _ce = new(epsilon);

    public string Name => "DistillationCELoss";
    public bool UsesLabels => false;
    public IReadOnlyList<ModelPair> Pairs { get; } = pairs;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target) =>
        ModelPair.Terms(Pairs, output, key, Name, (_, pair, student, teacher) => ($"{_ce.Name}_{pair}", _ce.Compute(student, teacher)));
}
