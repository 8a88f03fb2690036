using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>Makes a module's state, or a value, the same on every rank.</summary>
public static class ModuleSync
{
    /// <summary>Copies the parameters and buffers of rank <paramref name="root"/> to every rank (the initial weights come from rank 0).</summary>
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

    /// <summary>
    /// Replaces the float32 buffers (BN running mean and variance) with their mean over the ranks,
    /// in one all-reduce. Each rank's BN statistics follow its own shard during the epoch; averaged
    /// at the epoch's end, every rank evaluates, and rank 0 saves, the same model.
    /// </summary>
    public static void AverageBuffers(ICommunicator communicator, nn.Module module)
    {
        if (communicator.Size == 1) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var buffers = module.buffers().Where(b => b.dtype == ScalarType.Float32).ToList();
        if (buffers.Count == 0) return;
        var flat = cat(buffers.Select(b => b.flatten()).ToList(), 0).contiguous();
        communicator.AllReduceSum(flat);
        flat.div_(communicator.Size);
        long offset = 0;
        foreach (var buffer in buffers)
        {
            buffer.copy_(flat.narrow(0, offset, buffer.numel()).view(buffer.shape));
            offset += buffer.numel();
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
