using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;

namespace Ppcls.Core.Optim;

/// <summary>
/// Which parameters decay and by how much, as PaddleClas decides it:
/// <list type="bullet">
/// <item>Momentum, SGD, Adam, RMSProp take coupled L2 decay (grad += coeff * param) from
/// <c>regularizer: {name: L2, coeff}</c>, or from <c>weight_decay</c> (a float is L2 in
/// Paddle); with both, the regularizer wins. AdamW takes decoupled <c>weight_decay</c>.</item>
/// <item>BatchNorm weight/bias of the ConvBN blocks (state-dict keys ending in
/// <c>bn.weight</c> / <c>bn.bias</c>: PPHGNet, PPHGNetV2, PPLCNet, PPLCNetV2) carry
/// <c>ParamAttr(regularizer=L2Decay(0.0))</c> in PaddleClas, which overrides the
/// optimizer's L2: they never take coupled decay. AdamW's decoupled decay is not a
/// regularizer, so it still applies to them (as in Paddle). MobileNetV2's
/// <c>_batch_norm</c> and LearnableAffineBlock's <c>scale</c>/<c>bias</c> have no such
/// attribute in PaddleClas and do decay.</item>
/// <item><c>no_weight_decay_name</c> (substrings of the parameter name) and
/// <c>one_dim_param_no_weight_decay</c> (1-D parameters) exclude parameters for Momentum,
/// AdamW and RMSProp. PaddleClas's Momentum only forms these groups when
/// <c>no_weight_decay_name</c> is non-empty, so <c>one_dim_param_no_weight_decay</c> alone
/// does nothing there; kept as is. SGD and Adam do not take these keys in PaddleClas.</item>
/// </list>
/// </summary>
public sealed class WeightDecayRule
{
    WeightDecayRule(string optimizer, double coefficient, IReadOnlyList<string> noDecayNames, bool oneDimNoDecay, bool batchNormExempt)
    {
        Optimizer = optimizer;
        Coefficient = coefficient;
        NoDecayNames = noDecayNames;
        OneDimNoDecay = oneDimNoDecay;
        BatchNormExempt = batchNormExempt;
    }

    public string Optimizer { get; }
    /// <summary>The decay coefficient for parameters that decay.</summary>
    public double Coefficient { get; }
    /// <summary>True for AdamW (param *= 1 - lr * coeff), false for coupled L2.</summary>
    public bool Decoupled => Optimizer == "AdamW";
    public IReadOnlyList<string> NoDecayNames { get; }
    public bool OneDimNoDecay { get; }
    public bool BatchNormExempt { get; }

    public static WeightDecayRule From(OptimizerConfig config, Action<string> notice)
    {
        string name = config.Name;
        double coeff;
        if (name == "AdamW")
        {
            if (config.Regularizer is not null)
                throw ConfigException.At("Optimizer.regularizer", null,
                    "AdamW takes decoupled weight_decay, not a regularizer; write weight_decay: 0.05 instead");
            coeff = config.WeightDecay ?? 0.0;
        }
        else if (config.Regularizer is { } reg)
        {
            if (reg.Name != "L2")
                throw ConfigException.At("Optimizer.regularizer.name", null,
                    $"{reg.Name} regularization is not supported in Ppcls; use L2");
            if (config.WeightDecay is not null)
                notice("Optimizer: only one of regularizer and weight_decay can be set; weight_decay is ignored, as in PaddleClas");
            coeff = reg.Coeff;
        }
        else coeff = config.WeightDecay ?? 0.0;

        if (coeff < 0) throw ConfigException.At("Optimizer", null, $"the weight decay coefficient must not be negative, got {coeff}");

        bool takesExclusions = name is "Momentum" or "AdamW" or "RMSProp";
        if (!takesExclusions && (config.NoWeightDecayName.Count > 0 || config.OneDimParamNoWeightDecay))
            throw ConfigException.At("Optimizer", null,
                $"{name} does not take no_weight_decay_name or one_dim_param_no_weight_decay in PaddleClas; use Momentum, AdamW or RMSProp, or remove them");

        bool oneDim = config.OneDimParamNoWeightDecay && !(name == "Momentum" && config.NoWeightDecayName.Count == 0);
        if (config.OneDimParamNoWeightDecay && !oneDim)
            notice("Optimizer.one_dim_param_no_weight_decay has no effect for Momentum without no_weight_decay_name (PaddleClas behaviour)");
        return new WeightDecayRule(name, coeff, config.NoWeightDecayName, oneDim, batchNormExempt: name != "AdamW");
    }

    /// <summary>The decay coefficient for one parameter (0 where it is excluded).</summary>
    public double For(string parameterName, long[] shape)
    {
        if (Coefficient == 0) return 0;
        if (NoDecayNames.Any(parameterName.Contains)) return 0;
        if (OneDimNoDecay && shape.Length == 1) return 0;
        if (BatchNormExempt && IsConvBnBatchNorm(parameterName)) return 0;
        return Coefficient;
    }

    /// <summary>A BatchNorm weight/bias named <c>bn</c> (PaddleClas's ConvBN blocks), e.g. <c>stem.stem1.bn.weight</c>.</summary>
    public static bool IsConvBnBatchNorm(string parameterName)
    {
        var parts = parameterName.Split('.');
        return parts.Length >= 2 && parts[^2] == "bn" && parts[^1] is "weight" or "bias";
    }
}
