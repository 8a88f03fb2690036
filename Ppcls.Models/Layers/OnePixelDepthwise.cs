using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// A depthwise conv on a one-pixel map whose zero padding centres the kernel on that pixel (odd k,
/// padding (k - 1) / 2, any stride): only the kernel's centre tap meets data, so the conv is a
/// per-channel product, exactly (one product per output, the same gradients; the other taps' are
/// zero). It is the last stages of MobileNetV2 and PP-LCNet at 32 px, where libtorch 2.10's
/// oneDNN spends 16 ms on the weight gradient of a 960-channel depthwise conv over 128 pixels and
/// the product under 1 ms. A conv with children (quantization-aware) runs as itself.
/// </summary>
static class OnePixelDepthwise
{
    public static bool Applies(Conv2d conv, Tensor x) =>
        x.dim() == 4 && x.shape[2] == 1 && x.shape[3] == 1
        && conv.groups == conv.in_channels && conv.out_channels == conv.in_channels
        && conv.padding_mode == PaddingModes.Zeros && conv.padding is { } padding
        && conv.dilation.All(d => d == 1) && !conv.children().Any()
        && conv.weight!.shape[2] % 2 == 1 && conv.weight.shape[3] % 2 == 1
        && padding[0] == conv.weight.shape[2] / 2 && padding[1] == conv.weight.shape[3] / 2;

    public static Tensor Forward(Conv2d conv, Tensor x)
    {
        var weight = conv.weight!;
        long channels = weight.shape[0];
        var centre = weight.select(1, 0).select(1, weight.shape[2] / 2).select(1, weight.shape[3] / 2).reshape(1, channels, 1, 1);
        var y = x * centre;
        return conv.bias is { } bias ? y + bias.reshape(1, channels, 1, 1) : y;
    }
}
