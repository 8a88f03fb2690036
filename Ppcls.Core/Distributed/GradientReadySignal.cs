using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>
/// The identity, as an autograd function that calls back when backward reaches it. Put on a module's
/// input, it says when that module's backward is done: libtorch runs a node's gradient accumulation
/// into its parameters' `.grad` before any node created earlier in forward (AccumulateGrad has the
/// highest priority in the engine's ready queue), so when the input's gradient arrives here, every
/// gradient the module's forward produced has been added to its parameters. TorchSharp 0.107 has no
/// tensor or gradient-accumulator hooks, which is what DDP uses for the same purpose.
/// </summary>
public sealed class GradientReadySignal : autograd.SingleTensorFunction<GradientReadySignal>
{
    const string CallbackKey = "callback";

    public override string Name => nameof(GradientReadySignal);

    /// <summary><paramref name="input"/> unchanged; <paramref name="onBackward"/> runs when its gradient has been computed.</summary>
    public static Tensor Wrap(Tensor input, Action onBackward) => apply(input, onBackward);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ctx.save_data(CallbackKey, vars[1]);
        var input = (Tensor)vars[0];
        return input.view_as(input);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        ((Action)ctx.get_data(CallbackKey))();
        return [gradOutput, null!];
    }
}
