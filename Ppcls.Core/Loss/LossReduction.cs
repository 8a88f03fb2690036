using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>PaddleClas's loss <c>reduction</c>: mean, sum or none.</summary>
public enum LossReduction { Mean, Sum, None }

static class LossReductionExtensions
{
    public static LossReduction Parse(string name) => name switch
    {
        "mean" => LossReduction.Mean,
        "sum" => LossReduction.Sum,
        _ => LossReduction.None,
    };

    public static Tensor Apply(this LossReduction reduction, Tensor perSample) => reduction switch
    {
        LossReduction.Mean => perSample.mean(),
        LossReduction.Sum => perSample.sum(),
        _ => perSample,
    };

    public static nn.Reduction ToTorch(this LossReduction reduction) => reduction switch
    {
        LossReduction.Mean => nn.Reduction.Mean,
        LossReduction.Sum => nn.Reduction.Sum,
        _ => nn.Reduction.None,
    };
}
