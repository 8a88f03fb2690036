using Ppcls.Core.Distributed;
using TorchSharp;
using Ppcls.Core.Tensors;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Distributed;

/// <summary>The bucketed gradient all-reduce, against a stand-in second rank whose gradients are known.</summary>
public sealed class GradientAllReduceTests
{
    /// <summary>
    /// Two ranks, the other holding <see cref="OtherGradient"/> in every element (which it sends divided by the rank count,
    /// as every rank does, so that the sum is the mean); records each all-reduce's length.
    /// </summary>
    sealed class TwoRanks : ICommunicator
    {
        public const float OtherGradient = 3f;
        public List<long> Reduced { get; } = [];
        public int Rank => 0;
        public int Size => 2;
        public int LocalRank => 0;
        public int LocalSize => 2;
        public string Backend => "test";
        public TimeSpan Timeout { get; set; }

        public void AllReduceSum(Tensor buffer)
        {
            Reduced.Add(buffer.numel());
            buffer.add_(OtherGradient / Size);
        }

        public void AllReduceSum(double[] values) => throw new NotSupportedException();
        public void Broadcast(Tensor buffer, int root) => throw new NotSupportedException();
        public void Broadcast(long[] values, int root) => throw new NotSupportedException();
        public void WaitForRankZero() => throw new NotSupportedException();
        public void Abort(int exitCode) => throw new NotSupportedException();
        public void Dispose() { }
    }

    static nn.Module<Tensor, Tensor> Net() => nn.Sequential(
        ("conv", nn.Conv2d(3, 4, 3)), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(4, 5)));

    [TestCase(false)]
    [TestCase(true)]
    public void Gradients_become_the_mean_over_ranks_in_few_buckets_last_layer_first(bool channelsLast)
    {
        manual_seed(3);
        var net = Net();
        if (channelsLast) Assert.That(ChannelsLast.Apply(net), Is.EqualTo(1), "conv.weight gets NHWC strides; the buckets' views take them");
        var parameters = net.named_parameters().ToList(); // conv.weight 108, conv.bias 4, fc.weight 20, fc.bias 5
        var ranks = new TwoRanks();
        // 100 bytes hold 25 floats: fc.bias + fc.weight (25), then conv.bias (4), then conv.weight (108, over the size) alone.
        using var reduce = new GradientAllReduce(ranks, net.parameters(), bucketBytes: 100);
        Assert.That(reduce.BucketSizes, Is.EqualTo(new[] { 2, 1, 1 }));
        Assert.That(reduce.BucketElements, Is.EqualTo(new long[] { 25, 4, 108 }));

        using (var scope = NewDisposeScope())
            net.call(randn(2, 3, 6, 6)).pow(2).sum().backward();
        var local = parameters.ToDictionary(p => p.name, p => p.parameter.grad!.clone());

        reduce.Run();

        Assert.That(ranks.Reduced, Is.EqualTo(new long[] { 25, 4, 108 }), "one all-reduce per bucket, not per parameter");
        foreach (var (name, parameter) in parameters)
        {
            var expected = (local[name] + TwoRanks.OtherGradient) / 2;
            Assert.That(parameter.grad!.allclose(expected, rtol: 0, atol: 1e-6), Is.True, name);
            Assert.That(parameter.grad!.allclose(local[name], rtol: 0, atol: 0.1), Is.False, $"{name} changed");
        }
        Assert.That(reduce.Runs, Is.EqualTo(1));
    }

    [Test]
    public void The_first_and_the_last_bucket_are_small_the_others_full()
    {
        var net = nn.Sequential(("first", nn.Linear(8, 1024)), ("mid", nn.Linear(1024, 1024)), ("last", nn.Linear(1024, 300)));
        using var reduce = new GradientAllReduce(new TwoRanks(), net.parameters(), bucketBytes: 6L << 20);
        // Backward order: last.bias alone (last.weight would pass the first bucket's 1 MiB), then last.weight with all of mid
        // (5.2 MiB of 6), then first: ready only when backward ends, so not added to the bucket before it.
        Assert.That(reduce.BucketElements, Is.EqualTo(new long[] { 300, 1024 * 300 + 1024 + 1024 * 1024, 1024 + 8 * 1024 }));
        Assert.That(reduce.BucketSizes, Is.EqualTo(new[] { 1, 3, 2 }));
    }

    [Test]
    public void The_default_bucket_holds_a_small_model_in_one_all_reduce()
    {
        var net = Net();
        var ranks = new TwoRanks();
        using var reduce = new GradientAllReduce(ranks, net.parameters());
        Assert.That(reduce.BucketElements, Is.EqualTo(new long[] { 108 + 4 + 20 + 5 }));
    }
}
