using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Collects the per-parameter learning-rate multipliers of a network built from
/// <see cref="ConvBNAct"/> and <see cref="LearnableAffineBlock"/>: a ConvBNAct's conv weight
/// and BN weight/bias take its lr_mult, a LAB's scale/bias take lr_mult * lab_lr. Only
/// multipliers other than 1 are listed; unlisted parameters train at the base rate.
/// </summary>
public static class HGNetLearningRates
{
    public static IReadOnlyDictionary<string, double> Collect(nn.Module root)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, module) in root.named_modules())
        {
            string prefix = name.Length == 0 ? "" : name + ".";
            switch (module)
            {
                case ConvBNAct block:
                    Add(result, prefix + "conv.weight", block.LearningRateMultiplier);
                    if (block.Bn is not null)
                    {
                        Add(result, prefix + "bn.weight", block.LearningRateMultiplier);
                        Add(result, prefix + "bn.bias", block.LearningRateMultiplier);
                    }
                    else Add(result, prefix + "conv.bias", block.LearningRateMultiplier);
                    break;
                case LearnableAffineBlock lab:
                    Add(result, prefix + "scale", lab.LearningRateMultiplier);
                    Add(result, prefix + "bias", lab.LearningRateMultiplier);
                    break;
            }
        }
        return result;
    }

    static void Add(Dictionary<string, double> result, string key, double multiplier)
    {
        if (multiplier != 1.0) result[key] = multiplier;
    }
}
