using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// A block of a network whose forward runs in a dispose scope that only its output leaves: what autograd
/// does not keep (SAME padding, a LAB's product, a concatenated branch) is freed as the block ends, as
/// PyTorch's reference counting would, while the block's own code stays plain. Without it those tensors
/// lived to the end of the network's forward: the peak RSS of a PPHGNetV2_B0 train step at batch 32 rose
/// from 1.62 to 2.45 GB (`ppcls benchmark step --model PPHGNetV2_B0`).
/// </summary>
public abstract class ScopedBlock(string name) : nn.Module<Tensor, Tensor>(name)
{
    public sealed override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return ForwardInScope(x).MoveToOuterDisposeScope();
    }

    /// <summary>The block's computation; every tensor it makes but does not return is disposed after it.</summary>
    protected abstract Tensor ForwardInScope(Tensor x);
}
