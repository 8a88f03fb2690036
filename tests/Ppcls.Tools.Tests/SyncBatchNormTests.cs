using Ppcls.Core.Checkpoint;
using static TorchSharp.torch;

namespace Ppcls.Tools.Tests;

/// <summary>
/// `Arch.use_sync_bn` under `mpirun -np 2`: one training step of a conv-BN net on each rank's half
/// of a batch of 8 (SyncBatchNormProbe) gives what one process gives on all 8: the outputs, the
/// input gradients, the parameter gradients averaged over the ranks (twice the mean is the whole batch's), and the running statistics.
/// </summary>
[NonParallelizable]
public sealed class SyncBatchNormTests
{
    const string Probe = "Ppcls.MpiProbe.dll";

    [SetUp]
    public void NeedsMpirun() => MpiJob.RequireMpirun();

    static Dictionary<string, Tensor> Rank(string dir, int rank) => SafeTensorsFile.Read(Path.Combine(dir, $"rank{rank}.safetensors")).Tensors;

    static double MaxDifference(Tensor a, Tensor b)
    {
        Assert.That(a.shape, Is.EqualTo(b.shape));
        return (a - b).abs().max().item<float>();
    }

    [Test]
    public void Two_ranks_normalise_compute_gradients_and_track_statistics_as_one_process_on_the_whole_batch()
    {
        string root = Path.Combine(Path.GetTempPath(), "ppcls-syncbn-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string twoRanks = Path.Combine(root, "two"), oneRank = Path.Combine(root, "one");
            var two = MpiJob.Run(2, Probe, "syncbn", twoRanks);
            var one = MpiJob.Run(1, Probe, "syncbn", oneRank);
            Assert.That((two.ExitCode, one.ExitCode), Is.EqualTo((0, 0)), two.Error + one.Error);
            var (rank0, rank1, whole) = (Rank(twoRanks, 0), Rank(twoRanks, 1), Rank(oneRank, 0));

            Assert.That(MaxDifference(cat([rank0["output"], rank1["output"]]), whole["output"]), Is.LessThan(1e-5));
            Assert.That(MaxDifference(cat([rank0["input_grad"], rank1["input_grad"]]), whole["input_grad"]), Is.LessThan(1e-5));
            var parameterGrads = whole.Keys.Where(k => k.EndsWith(".grad") && k != "input_grad").ToList();
            Assert.That(parameterGrads, Is.EquivalentTo(new[] { "conv1.weight.grad", "bn1.weight.grad", "bn1.bias.grad", "conv2.weight.grad", "bn2.weight.grad", "bn2.bias.grad" }));
            // The gradients are averaged over the ranks (in buckets started during backward, between SyncBN's all-reduces).
            Assert.That(rank0["buckets_started_in_backward"].item<int>(), Is.GreaterThan(0));
            foreach (var key in parameterGrads)
            {
                Assert.That(MaxDifference(rank0[key] * 2, whole[key]), Is.LessThan(1e-4), key);
                Assert.That(MaxDifference(rank1[key], rank0[key]), Is.LessThan(1e-7), $"{key}: every rank holds the mean");
            }
            foreach (var key in new[] { "bn1._mean", "bn1._variance", "bn2._mean", "bn2._variance" })
            {
                Assert.That(MaxDifference(rank0[key], whole[key]), Is.LessThan(1e-6), key);
                Assert.That(MaxDifference(rank1[key], rank0[key]), Is.Zero, $"{key}: every rank holds the same running statistics");
            }
            // Each rank's own statistics give other outputs: the tolerance above tells the two apart.
            Assert.That(MaxDifference(cat([rank0["own_batch_output"], rank1["own_batch_output"]]), whole["output"]), Is.GreaterThan(1e-2));
            Assert.That(MaxDifference(whole["own_batch_output"], whole["output"]), Is.Zero, "one rank: use_sync_bn is plain BatchNorm, bit for bit");
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
