using Ppcls.Core.Checkpoint;
using Ppcls.Core.Distributed;
using BatchNorm2d = Ppcls.Models.Layers.BatchNorm2d;
using static TorchSharp.torch;

/// <summary>
/// `Ppcls.MpiProbe syncbn OUTPUT_DIR`: one training step of a small conv-BN net on this rank's
/// slice of a fixed batch of 8, with <c>Arch.use_sync_bn</c>'s layers (plain BatchNorm on one rank),
/// under the loss sum(output * fixed weights), its parameter gradients averaged over the ranks by
/// <see cref="GradientAllReduce"/> in 64-byte buckets started during backward (so they interleave with
/// SyncBN's collectives). Writes `rank{R}.safetensors`: the output, the input gradient, the averaged
/// parameter gradients, the running statistics, the buckets started during backward, and the output
/// of the same net with per-rank statistics (`own_batch_output`). One rank gives the concatenated batch's values.
/// </summary>
static class SyncBatchNormProbe
{
    const int GlobalBatch = 8;

    public static void Run(ICommunicator world, string outputDir)
    {
        manual_seed(5);
        var images = randn(GlobalBatch, 3, 6, 6) * 2 + 1;
        var lossWeights = randn(GlobalBatch, 4, 3, 3);
        int local = GlobalBatch / world.Size;
        var x = images.narrow(0, world.Rank * local, local).clone().requires_grad_();

        var synced = Net();
        SyncBatchNorm.Apply(synced, world);
        using var reduce = new GradientAllReduce(world, synced, bucketBytes: 64);
        reduce.BeginStep(reduceAfterBackward: true);
        var output = synced.call(x);
        (output * lossWeights.narrow(0, world.Rank * local, local)).sum().backward();
        reduce.Run();
        var ownBatchOutput = Net().call(x).detach();

        var tensors = new Dictionary<string, Tensor>
        {
            ["output"] = output.detach(), ["input_grad"] = x.grad!, ["own_batch_output"] = ownBatchOutput,
            ["buckets_started_in_backward"] = tensor(reduce.LastStartedDuringBackward),
        };
        foreach (var (name, parameter) in synced.named_parameters()) tensors[name + ".grad"] = parameter.grad!;
        foreach (var (name, buffer) in synced.named_buffers()) tensors[name] = buffer;
        Directory.CreateDirectory(outputDir);
        SafeTensorsFile.Write(Path.Combine(outputDir, $"rank{world.Rank}.safetensors"), tensors);
    }

    /// <summary>conv -> BN -> ReLU -> strided conv -> BN, the same weights in every process (BN's affine ones drawn too).</summary>
    static nn.Module<Tensor, Tensor> Net()
    {
        manual_seed(11);
        var net = nn.Sequential(
            ("conv1", nn.Conv2d(3, 6, 3, padding: 1, bias: false)), ("bn1", new BatchNorm2d(6)), ("relu", nn.ReLU()),
            ("conv2", nn.Conv2d(6, 4, 3, stride: 2, padding: 1, bias: false)), ("bn2", new BatchNorm2d(4)));
        using (no_grad())
            foreach (var bn in net.modules().OfType<BatchNorm2d>())
            {
                bn.Weight.uniform_(0.5, 1.5);
                bn.Bias.uniform_(-0.5, 0.5);
            }
        net.train();
        return net;
    }
}
