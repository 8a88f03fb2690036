using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Quantization;

/// <summary>
/// Turns one Conv2d or Linear into its quantization-aware form in place, as PaddleSlim's
/// QuantizedConv2D / QuantizedLinear do: the input goes through PACT and the moving-average
/// activation quantizer, the weight through the channel-wise quantizer, and the layer runs on both.
/// The quantizers are registered as the layer's children under PaddleSlim's names
/// (`_act_preprocess`, `_fake_quant_input`, `_fake_quant_weight`), so their state is in the model's
/// state dict and their alpha among its parameters. The layer's own forward is bypassed through its
/// hooks: the pre-hook quantizes the input and hands the layer an empty batch (so its float pass costs
/// nothing); the post-hook returns the quantized computation instead.
/// </summary>
sealed class QuantizedLayer
{
    public const string PactName = "_act_preprocess";
    public const string InputName = "_fake_quant_input";
    public const string WeightName = "_fake_quant_weight";

    readonly PactClip _pact = new();
    readonly MovingAverageAbsMaxQuant _input;
    readonly ChannelWiseAbsMaxQuant _weight;
    readonly Func<Tensor, Tensor, Tensor> _compute;
    Tensor? _pending;

    QuantizedLayer(nn.Module<Tensor, Tensor> layer, long outChannels, double movingRate, Func<Tensor, Tensor, Tensor> compute)
    {
        _input = new MovingAverageAbsMaxQuant(movingRate);
        _weight = new ChannelWiseAbsMaxQuant(outChannels);
        _compute = compute;
        layer.register_module(PactName, _pact);
        layer.register_module(InputName, _input);
        layer.register_module(WeightName, _weight);
        layer.register_forward_pre_hook((_, x) =>
        {
            _pending = _input.call(_pact.call(x));
            return x.narrow(0, 0, 0);
        });
        layer.register_forward_hook((_, _, _) =>
        {
            var input = _pending ?? throw new InvalidOperationException("quantized layer ran without its input hook");
            _pending = null;
            return _compute(input, _weight.call(WeightOf(layer)));
        });
    }

    static Tensor WeightOf(nn.Module<Tensor, Tensor> layer) => layer switch
    {
        Conv2d conv => conv.weight!,
        Linear linear => linear.weight!,
        _ => throw new ArgumentException($"{layer.GetType().Name} is not quantizable", nameof(layer)),
    };

    public static void Quantize(Conv2d conv, double movingRate)
    {
        if (conv.padding_mode != PaddingModes.Zeros)
            throw new NotSupportedException($"quantization-aware training supports zero-padded convolutions only, not {conv.padding_mode}");
        _ = new QuantizedLayer(conv, conv.out_channels, movingRate, (x, w) => conv.padding is { } padding
            ? nn.functional.conv2d(x, w, conv.bias, conv.stride, padding, conv.dilation, conv.groups)
            : nn.functional.conv2d_padding(x, w, conv.bias, conv.stride, conv.padding_type!.Value, conv.dilation, conv.groups));
    }

    public static void Quantize(Linear linear, double movingRate) =>
        _ = new QuantizedLayer(linear, linear.out_features, movingRate, (x, w) => nn.functional.linear(x, w, linear.bias));
}
