namespace Ppcls.Core.Models;

/// <summary>
/// A model whose parameters train at scaled learning rates (PaddleClas `lr_mult_list`,
/// LearnableAffineBlock's `lab_lr`). The optimizer builds parameter groups from it;
/// parameters not named train at the base rate.
/// </summary>
public interface ILearningRateMultipliers
{
    /// <summary>State-dict parameter name -> learning-rate multiplier.</summary>
    IReadOnlyDictionary<string, double> LearningRateMultipliers();
}
