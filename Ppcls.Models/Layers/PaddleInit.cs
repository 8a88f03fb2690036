using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Paddle's default initialisers, so a model trained from scratch starts as PaddleClas's does:
/// Conv2D weights Normal(0, sqrt(2 / fan_in)) (the same as `KaimingNormal()`), Linear weights
/// Xavier-uniform, every bias zero.
/// </summary>
public static class PaddleInit
{
    public static Conv2d Conv(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long groups = 1, bool bias = false)
    {
        var conv = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, groups: groups, bias: bias);
        using (no_grad())
        {
            nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanIn, nonlinearity: nn.init.NonlinearityType.ReLU);
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
}
