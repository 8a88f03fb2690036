using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>
/// PaddleClas's Swin initialisation: Linear weights and the position tables from a normal of
/// std 0.02 truncated at two standard deviations, Linear biases zero (LayerNorm starts at 1 / 0).
/// </summary>
public static class SwinInit
{
    public const double Std = 0.02;

    public static void TruncNormal(Tensor t) => PaddleInit.TruncatedNormal(t, 0.0, Std, -2 * Std, 2 * Std);

    public static Linear Linear(long inFeatures, long outFeatures, bool bias)
    {
        var linear = nn.Linear(inFeatures, outFeatures, hasBias: bias);
        using (no_grad())
        {
            TruncNormal(linear.weight);
            linear.bias?.zero_();
        }
        return linear;
    }
}
