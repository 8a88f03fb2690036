using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Quantization;

/// <summary>
/// Paddle's moving_average_abs_max activation quantizer. In training each batch updates
/// state = r * state + 1, accum = r * accum + max|x|, scale = accum / state (r = moving_rate 0.9;
/// state and accum start at 1, the scale at 0.001, as in Paddle) and quantizes with the new scale;
/// in eval the stored scale is used. State-dict keys: `_scale`, `_state`, `_accum` (each [1]).
/// </summary>
public sealed class MovingAverageAbsMaxQuant : nn.Module<Tensor, Tensor>
{
    public const double DefaultMovingRate = 0.9;

    readonly Tensor _scale;
    readonly Tensor _state;
    readonly Tensor _accum;

    public MovingAverageAbsMaxQuant(double movingRate = DefaultMovingRate, int bits = FakeQuant.Bits) : base(nameof(MovingAverageAbsMaxQuant))
    {
        MovingRate = movingRate;
        Bits = bits;
        _scale = full(1, 0.001);
        _state = ones(1);
        _accum = ones(1);
        RegisterComponents();
    }

    public double MovingRate { get; }
    public int Bits { get; }
    public Tensor Scale => _scale;
    public Tensor State => _state;
    public Tensor Accum => _accum;

    public override Tensor forward(Tensor x)
    {
        if (training)
        {
            using var noGrad = no_grad();
            using var current = x.detach().abs().max();
            _state.mul_(MovingRate).add_(1.0);
            _accum.mul_(MovingRate).add_(current);
            _scale.copy_(_accum.div(_state));
        }
        return FakeQuant.QuantDequant(x, _scale, Bits);
    }
}
