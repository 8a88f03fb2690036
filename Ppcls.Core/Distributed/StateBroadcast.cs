using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>Copies a module's parameters and buffers from one rank to all (the initial weights come from rank 0).</summary>
public static class StateBroadcast
{
    public static void FromRank(ICommunicator communicator, nn.Module module, int root = 0)
    {
        if (communicator.Size == 1) return;
        using var noGrad = no_grad();
        foreach (var (_, tensor) in module.state_dict())
        {
            if (tensor.is_contiguous())
            {
                communicator.Broadcast(tensor, root);
                continue;
            }
            using var packed = tensor.contiguous();
            communicator.Broadcast(packed, root);
            tensor.copy_(packed);
        }
    }

    /// <summary>Rank <paramref name="root"/>'s value on every rank (a seed every rank agrees on).</summary>
    public static long Value(ICommunicator communicator, long value, int root = 0)
    {
        long[] values = [value];
        communicator.Broadcast(values, root);
        return values[0];
    }
}
