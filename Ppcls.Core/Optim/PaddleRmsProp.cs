using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Optim;

/// <summary>
/// Paddle's RMSProp update on TorchSharp's RMSProp state (so checkpoints save and load the
/// same way): ms = rho * ms + (1 - rho) g^2; mom = momentum * mom + lr * g / sqrt(ms + eps);
/// p -= mom. torch's differs: sqrt(ms) + eps, and lr applied outside the momentum buffer.
/// Coupled L2 decay (g += coeff * p) comes first, as Paddle's regularizer does. Not centered.
/// </summary>
public sealed class PaddleRmsProp(IEnumerable<RMSProp.ParamGroup> groups, double lr)
    : RMSProp(groups, lr)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = group.Options;
        double rate = o.LearningRate!.Value, rho = o.alpha!.Value, eps = o.eps!.Value;
        double momentum = o.momentum!.Value, decay = o.weight_decay!.Value;
        foreach (var p in group.Parameters)
        {
            var grad = p.grad;
            if (grad is null) continue;
            using var scope = NewDisposeScope();
            var state = (State)_state[p.Handle];
            var g = decay != 0 ? grad.add(p, alpha: decay) : grad;
            state.step += 1;
            state.square_avg.mul_(rho).addcmul_(g, g, 1 - rho);
            var update = g / (state.square_avg + eps).sqrt();
            if (momentum != 0 && state.momentum_buffer is { } buffer)
            {
                buffer.mul_(momentum).add_(update, alpha: rate);
                p.sub_(buffer);
            }
            else p.sub_(update * rate);
        }
    }, closure);
}
