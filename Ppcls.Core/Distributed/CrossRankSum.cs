using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>
/// The element-wise sum of a small float64 vector over the ranks, as an autograd function: every
/// rank's value feeds every rank's result, so the gradient of a rank's input is the sum over the
/// ranks of the gradients their results received (the backward is a sum over the ranks too).
/// SyncBatchNorm reduces its per-channel statistics through it.
/// </summary>
public sealed class CrossRankSum : autograd.SingleTensorFunction<CrossRankSum>
{
    const string WorldKey = "world";

    public override string Name => nameof(CrossRankSum);

    /// <summary>The sum over the ranks of <paramref name="values"/> (1-D float64); differentiable.</summary>
    public static Tensor Of(Tensor values, ICommunicator world) => apply(values, world);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var world = (ICommunicator)vars[1];
        ctx.save_data(WorldKey, world);
        return Summed((Tensor)vars[0], world);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput) =>
        [Summed(gradOutput, (ICommunicator)ctx.get_data(WorldKey)), null!];

    static Tensor Summed(Tensor values, ICommunicator world)
    {
        if (values.dtype != ScalarType.Float64 || values.dim() != 1)
            throw new ArgumentException($"expected a 1-D float64 tensor, got {values.dtype} {string.Join("x", values.shape)}", nameof(values));
        double[] sums = values.cpu().data<double>().ToArray();
        world.AllReduceSum(sums);
        return tensor(sums, ScalarType.Float64).to(values.device);
    }
}
