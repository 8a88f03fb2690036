using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Paddle's initialisers, so a model trained from scratch starts as PaddleClas's does. Conv2D
/// without an explicit initializer draws Normal(0, sqrt(2 / (k * k * in_channels))), counting
/// all input channels even for grouped convs; `KaimingNormal()` divides by in_channels / groups
/// instead (the two agree for ordinary convs and differ for depthwise ones). Linear weights are
/// Xavier-uniform. Every bias starts at zero.
/// </summary>
/// <remarks>
/// TorchSharp's own <c>nn.init.trunc_normal_</c> (0.107) multiplies by the mean and adds the std (and
/// drops the sqrt(2) of the inverse CDF), so with mean 0 it fills a tensor with the constant std;
/// <see cref="TruncatedNormal"/> replaces it.
/// </remarks>
public static class PaddleInit
{
    public static Conv2d Conv(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long groups = 1,
        bool bias = false, bool kaimingNormal = false) =>
        Conv(inChannels, outChannels, kernelSize, new Stride2d(stride, stride), padding, groups, bias, kaimingNormal);

    public static Conv2d Conv(long inChannels, long outChannels, long kernelSize, Stride2d stride, long padding = 0, long groups = 1,
        bool bias = false, bool kaimingNormal = false)
    {
        var conv = nn.Conv2d(inChannels, outChannels, (kernelSize, kernelSize), stride: stride.AsTuple, padding: (padding, padding),
            groups: groups, bias: bias);
        long fanIn = kernelSize * kernelSize * (kaimingNormal ? inChannels / groups : inChannels);
        using (no_grad())
        {
            nn.init.normal_(conv.weight!, 0.0, Math.Sqrt(2.0 / fanIn));
            if (conv.bias is { } b) b.zero_();
        }
        return conv;
    }

    public static Linear Linear(long inFeatures, long outFeatures)
    {
        var linear = nn.Linear(inFeatures, outFeatures);
        using (no_grad())
        {
            nn.init.xavier_uniform_(linear.weight);
            if (linear.bias is { } b) b.zero_();
        }
        return linear;
    }

    /// <summary>
    /// A normal of <paramref name="mean"/> and <paramref name="std"/> cut at the absolute values
    /// <paramref name="a"/> and <paramref name="b"/>, drawn as torch's <c>trunc_normal_</c> draws it:
    /// uniform between the two cut points' CDFs, then the inverse CDF.
    /// </summary>
    public static void TruncatedNormal(Tensor t, double mean, double std, double a, double b)
    {
        double low, high;
        using (NewDisposeScope())
        {
            var cdf = special.ndtr(tensor(new[] { (a - mean) / std, (b - mean) / std }, float64));
            (low, high) = (cdf[0].item<double>(), cdf[1].item<double>());
        }
        using (no_grad())
            t.uniform_(2 * low - 1, 2 * high - 1).erfinv_().mul_(std * Math.Sqrt(2.0)).add_(mean).clamp_(a, b);
    }
}
