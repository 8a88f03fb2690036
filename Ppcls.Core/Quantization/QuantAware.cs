using Ppcls.Core.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Quantization;

/// <summary>
/// PaddleClas's `Slim: {quant: {name: pact}}` (ppcls/arch/slim/quant.py): quantization-aware training
/// of every Conv2D and Linear layer of the built model with PaddleSlim's QUANT_CONFIG: PACT on the
/// layer input, moving_average_abs_max int8 activations (moving_rate 0.9) and channel_wise_abs_max int8
/// weights (<see cref="QuantizedLayer"/>). Applied once to the whole model, for every family, before any
/// weights are loaded and before the optimizer is built.
/// </summary>
public static class QuantAware
{
    /// <summary>State-dict key parts of the quantizers' state (PaddleSlim's names).</summary>
    static readonly string[] StateKeyParts = [$".{QuantizedLayer.PactName}.", $".{QuantizedLayer.InputName}.", $".{QuantizedLayer.WeightName}."];

    /// <summary>Quantizes every Conv2d and Linear of <paramref name="model"/> in place; returns how many of each.</summary>
    public static (int Convs, int Linears) Apply(nn.Module model, double movingRate = MovingAverageAbsMaxQuant.DefaultMovingRate)
    {
        var layers = model.modules().Where(m => m is Conv2d or Linear).ToList();
        foreach (var layer in layers)
        {
            if (layer is Conv2d conv) QuantizedLayer.Quantize(conv, movingRate);
            else QuantizedLayer.Quantize((Linear)layer, movingRate);
        }
        return (layers.Count(l => l is Conv2d), layers.Count(l => l is Linear));
    }

    /// <summary>A quantized layer's quantizers, or null for a layer <see cref="Apply"/> did not quantize.</summary>
    public static (PactClip Pact, MovingAverageAbsMaxQuant Input, ChannelWiseAbsMaxQuant Weight)? QuantizersOf(nn.Module layer)
    {
        var children = layer.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
        return children.GetValueOrDefault(QuantizedLayer.PactName) is PactClip pact
            && children.GetValueOrDefault(QuantizedLayer.InputName) is MovingAverageAbsMaxQuant input
            && children.GetValueOrDefault(QuantizedLayer.WeightName) is ChannelWiseAbsMaxQuant weight
            ? (pact, input, weight) : null;
    }

    /// <summary>True for a key of the quantizers' state (`conv._act_preprocess.alpha`, `fc._fake_quant_input._scale`...).</summary>
    public static bool IsStateKey(string key) => StateKeyParts.Any(part => key.Contains(part, StringComparison.Ordinal));

    /// <summary>The model's own LR multipliers plus PACT's 1000x on every alpha.</summary>
    public static ILearningRateMultipliers WithPactRates(nn.Module model, ILearningRateMultipliers? own) =>
        new Multipliers(model, own);

    sealed class Multipliers(nn.Module model, ILearningRateMultipliers? own) : ILearningRateMultipliers
    {
        public IReadOnlyDictionary<string, double> LearningRateMultipliers()
        {
            var rates = own?.LearningRateMultipliers().ToDictionary() ?? [];
            foreach (var (name, _) in model.named_parameters())
                if (name.EndsWith($".{QuantizedLayer.PactName}.alpha", StringComparison.Ordinal))
                    rates[name] = PactClip.LearningRateMultiplier * rates.GetValueOrDefault(name, 1.0);
            return rates;
        }
    }
}
