using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Quantization;

/// <summary>
/// Paddle's channel_wise_abs_max weight quantizer: each output channel is fake-quantized with its own
/// abs-max, computed from the current weight on every forward and kept in `_scale` ([out_channels])
/// for inspection and export.
/// </summary>
public sealed class ChannelWiseAbsMaxQuant : nn.Module<Tensor, Tensor>
{
    readonly Tensor _scale;

    public ChannelWiseAbsMaxQuant(long outChannels, int bits = FakeQuant.Bits) : base(nameof(ChannelWiseAbsMaxQuant))
    {
        Bits = bits;
        _scale = zeros(outChannels);
        RegisterComponents();
    }

    public int Bits { get; }
    public Tensor Scale => _scale;

    public override Tensor forward(Tensor weight)
    {
        using (no_grad())
        using (var current = FakeQuant.ChannelAbsMax(weight))
            _scale.copy_(current);
        return FakeQuant.ChannelWise(weight, _scale, Bits);
    }
}
