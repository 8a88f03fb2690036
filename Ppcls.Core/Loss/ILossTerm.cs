using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// One entry of <c>Loss.Train</c> / <c>Loss.Eval</c> as PaddleClas runs it: the model's outputs
/// and the batch's target to one or more named loss values (a distillation loss logs one per
/// model or pair, e.g. <c>CELoss_Student_Teacher</c>).
/// </summary>
public interface ILossTerm
{
    /// <summary>The config name (<c>DistillationCELoss</c>).</summary>
    string Name { get; }

    /// <summary>Whether it reads the batch's labels (a list without labels cannot feed it).</summary>
    bool UsesLabels { get; }

    IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target);
}

/// <summary>A plain classification loss on the model's primary output, logged by its own name.</summary>
public sealed class ClassificationTerm(IClassificationLoss loss) : ILossTerm
{
    public IClassificationLoss Loss { get; } = loss;
    public string Name => Loss.Name;
    public bool UsesLabels => true;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target) =>
        new Dictionary<string, Tensor> { [Loss.Name] = Loss.Compute(output.Primary, target) };
}
