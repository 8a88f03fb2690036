using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Distributed;
using Ppcls.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>
/// The gradient all-reduce started during backward, on one model per family: a bucket may start only
/// when backward has finished every gradient in it. A stand-in second rank with the same gradients
/// records each bucket as it starts; every recorded bucket must equal the final gradients of a plain
/// backward, and most buckets must start before backward ends (or the check would prove nothing).
/// </summary>
public sealed class OverlappedGradientSyncTests
{
    /// <summary>
    /// Two ranks with equal gradients (so the mean is the local gradient); keeps a copy of each bucket as it starts
    /// (each rank sends its gradients divided by the rank count, so the copy is times 2).
    /// </summary>
    sealed class RecordingTwin : ICommunicator
    {
        public List<Tensor> Started { get; } = [];
        public int Rank => 0;
        public int Size => 2;
        public int LocalRank => 0;
        public int LocalSize => 2;
        public string Backend => "test";
        public TimeSpan Timeout { get; set; }

        public IPendingCollective StartAllReduceSum(Tensor buffer)
        {
            Started.Add((buffer * Size).DetachFromDisposeScope());
            buffer.mul_(2);
            return CompletedCollective.Instance;
        }

        public void AllReduceSum(Tensor buffer) => throw new NotSupportedException("the gradients are reduced through StartAllReduceSum");
        public void AllReduceSum(double[] values) => throw new NotSupportedException();
        public void Broadcast(Tensor buffer, int root) => throw new NotSupportedException();
        public void Broadcast(long[] values, int root) => throw new NotSupportedException();
        public void Abort(int exitCode) => throw new NotSupportedException();
        public void WaitForRankZero() => throw new NotSupportedException();
        public void Dispose() { foreach (var t in Started) t.Dispose(); }
    }

    public static IEnumerable<TestCaseData> Families() =>
        ModelFusionTests.OnePerFamily.Select(n => new TestCaseData(n, 64, MemoryFormat.ChannelsLast))
            .Append(new TestCaseData("PPHGNetV2_B0", 64, MemoryFormat.Contiguous))
            // 32 px: the last blocks' depthwise convs see one pixel, and ConvBN applies their weights itself (OnePixelDepthwise).
            .Append(new TestCaseData("MobileNetV2_x0_25", 32, MemoryFormat.ChannelsLast))
            .Append(new TestCaseData("SwinTransformer_tiny_patch4_window7_224", 224, MemoryFormat.ChannelsLast));

    [TestCaseSource(nameof(Families))]
    public void Every_bucket_starts_with_its_final_gradients(string name, int size, MemoryFormat format)
    {
        var placement = new Placement(CPU, format);
        var model = placement.Model(ModelZoo.CreateRegistry().Get(name).Create(ConfigSection.Empty("Arch")));
        model.train();
        var parameters = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        manual_seed(11);
        using var images = placement.Images(randn(2, 3, size, size));
        using var labels = tensor(new long[] { 3, 500 });

        void Step(GradientAllReduce? sync)
        {
            foreach (var (_, p) in parameters) p.grad = null;
            using var scope = NewDisposeScope();
            manual_seed(5); // the same dropout masks in both runs
            sync?.BeginStep(reduceAfterBackward: true);
            nn.functional.cross_entropy(model.call(images), labels).backward();
            sync?.Run();
        }

        Step(null);
        // A parameter the forward does not use (PP-LCNetV2's unused rep branch) has no gradient: zeros in its bucket.
        var expected = parameters.ToDictionary(p => p.name, p => p.parameter.grad?.clone() ?? zeros_like(p.parameter));

        using var twin = new RecordingTwin();
        // 256 KiB buckets: several per model even for the smallest variants.
        using var sync = new GradientAllReduce(twin, model, bucketBytes: 256 << 10);
        Assume.That(sync.BucketElements.Count, Is.GreaterThan(2), $"{name}: too few buckets to test the overlap");
        Step(sync);

        Assert.That(twin.Started, Has.Count.EqualTo(sync.BucketElements.Count));
        Assert.That(sync.LastStartedDuringBackward, Is.GreaterThanOrEqualTo(sync.BucketElements.Count / 2),
            $"{name}: of {sync.BucketElements.Count} buckets ({sync.WatchedBuckets} watched), {sync.LastStartedDuringBackward} started during backward");
        // The buckets hold the parameters last layer first, each in its memory order; pack the expected gradients the same way.
        var ordered = parameters.AsEnumerable().Reverse().ToList();
        int next = 0;
        for (int b = 0; b < twin.Started.Count; b++)
        {
            var parts = new List<Tensor>();
            long filled = 0;
            while (filled < twin.Started[b].numel())
            {
                var (pname, p) = ordered[next++];
                var inParameterOrder = empty_strided(p.shape, p.stride()).copy_(expected[pname]); // as the bucket's view lays it out
                parts.Add(inParameterOrder.as_strided([p.numel()], [1]));
                filled += p.numel();
            }
            var want = cat(parts);
            double error = (twin.Started[b] - want).abs().max().item<float>();
            Assert.That(error, Is.LessThanOrEqualTo(1e-6 + 1e-5 * want.abs().max().item<float>()),
                $"{name}: bucket {b} of {twin.Started.Count} started before its gradients were final (parameters up to {ordered[next - 1].name})");
        }
        foreach (var (pname, p) in parameters.Where(p => p.parameter.grad is not null))
            Assert.That(p.grad!.allclose(expected[pname], rtol: 1e-5, atol: 1e-6), Is.True, $"{pname}: the mean of two equal ranks is the gradient");
    }
}
