using Ppcls.Core.Distributed;
using Ppcls.Core.Tensors;
using Ppcls.Models.Layers;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>
/// BatchNorm2d with <c>Arch.use_sync_bn</c>, in one process: a stand-in second rank that holds the
/// same batch makes the job's batch this batch twice, so the synced layer must match plain
/// BatchNorm on [x; x] (outputs, the input gradient of the first copy, the running statistics).
/// The real two-rank check runs under mpirun (Ppcls.Tools.Tests SyncBatchNormTests).
/// </summary>
public sealed class SyncBatchNormTests
{
    /// <summary>Two ranks, the other holding exactly this rank's values: every sum doubles.</summary>
    sealed class MirroredRank : ICommunicator
    {
        public int AllReduces { get; private set; }
        public int Rank => 0;
        public int Size => 2;
        public int LocalRank => 0;
        public int LocalSize => 2;
        public string Backend => "test";
        public TimeSpan Timeout { get; set; }

        public void AllReduceSum(double[] values)
        {
            AllReduces++;
            for (int i = 0; i < values.Length; i++) values[i] *= 2;
        }

        public void AllReduceSum(Tensor buffer) => throw new NotSupportedException();
        public void Broadcast(Tensor buffer, int root) => throw new NotSupportedException();
        public void Broadcast(long[] values, int root) => throw new NotSupportedException();
        public void WaitForRankZero() => throw new NotSupportedException();
        public void Abort(int exitCode) => throw new NotSupportedException();
        public void Dispose() { }
    }

    static BatchNorm2d Layer()
    {
        var bn = new BatchNorm2d(3);
        using (no_grad())
        {
            bn.Weight.copy_(tensor(new[] { 0.5f, 1.5f, 2f }));
            bn.Bias.copy_(tensor(new[] { 0.1f, -0.2f, 0.3f }));
        }
        return bn;
    }

    static double MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [TestCase(false)]
    [TestCase(true)]
    public void A_synced_layer_normalises_and_differentiates_as_plain_batch_norm_on_the_whole_job_batch(bool channelsLast)
    {
        manual_seed(2);
        var x = randn(4, 3, 5, 5) * 3 + 2;
        if (channelsLast) x = ChannelsLast.Of(x);
        x.requires_grad_();
        var lossWeights = randn(4, 3, 5, 5);
        var synced = Layer();
        var ranks = new MirroredRank();
        synced.SyncStatisticsOver(ranks);
        var output = synced.call(x);
        (output * lossWeights).sum().backward();

        var both = cat([x.detach(), x.detach()]).requires_grad_();
        var plain = Layer();
        var plainOutput = plain.call(both);
        (plainOutput * cat([lossWeights, lossWeights])).sum().backward();

        Assert.That(ranks.AllReduces, Is.EqualTo(2), "one all-reduce of the statistics forward, one of their gradients backward");
        Assert.That(ChannelsLast.IsStrictly(output), Is.EqualTo(channelsLast), "the output keeps the input's layout");
        Assert.That(MaxDifference(output, plainOutput.narrow(0, 0, 4)), Is.LessThan(1e-5));
        Assert.That(MaxDifference(x.grad!, both.grad!.narrow(0, 0, 4)), Is.LessThan(1e-5));
        Assert.That(MaxDifference(synced.RunningMean, plain.RunningMean), Is.LessThan(1e-6));
        Assert.That(MaxDifference(synced.RunningVariance, plain.RunningVariance), Is.LessThan(1e-6), "the unbiased variance of all 200 values per channel");
        // The layer's own 100 values per channel give another running variance (n - 1 = 99, not 199): the check tells them apart.
        var own = Layer();
        using (no_grad()) own.call(x);
        Assert.That(MaxDifference(own.RunningVariance, plain.RunningVariance), Is.GreaterThan(1e-4));
    }

    [Test]
    public void One_rank_and_evaluation_keep_plain_batch_norm_bit_for_bit()
    {
        manual_seed(3);
        var x = randn(4, 3, 5, 5);
        var (plain, oneRank) = (Layer(), Layer());
        oneRank.SyncStatisticsOver(SingleProcess.Instance);
        Assert.That(MaxDifference(oneRank.call(x), plain.call(x)), Is.Zero);
        Assert.That(MaxDifference(oneRank.RunningVariance, plain.RunningVariance), Is.Zero);

        var ranks = new MirroredRank();
        var (evaluating, plainEvaluating) = (Layer(), Layer());
        evaluating.SyncStatisticsOver(ranks);
        evaluating.eval();
        plainEvaluating.eval();
        Assert.That(MaxDifference(evaluating.call(x), plainEvaluating.call(x)), Is.Zero);
        Assert.That(ranks.AllReduces, Is.Zero, "evaluation reads the running statistics");
    }
}
