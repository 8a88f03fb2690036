using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>DistillationKLDivLoss</c> (Hinton's distillation): for each pair,
/// sum(softmax(t / T) * (log softmax(t / T) - log_softmax(s / T))) * T^2 / N, logged as
/// <c>loss_kldiv_Student_Teacher</c>; <c>temperature</c> defaults to 4.
/// </summary>
public sealed class DistillationKLDivLoss(IReadOnlyList<ModelPair> pairs, double temperature, string? key) : ILossTerm
{
    public string Name => "DistillationKLDivLoss";
    public bool UsesLabels => false;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target) =>
        ModelPair.Terms(pairs, output, key, Name, (_, pair, student, teacher) =>
        {
            var logStudent = nn.functional.log_softmax(student / temperature, 1);
            var teacherProbabilities = nn.functional.softmax(teacher / temperature, 1);
            var kl = (teacherProbabilities.xlogy(teacherProbabilities) - teacherProbabilities * logStudent).sum();
            return ($"loss_kldiv_{pair}", kl * (temperature * temperature) / student.shape[0]);
        });
}
