using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Data.Imaging;
using Ppcls.Data.Loading;

namespace Ppcls.Data.Tests;

/// <summary>DistributedBatchSampler's sharding across ranks, against index lists worked out by hand from PaddleClas's algorithm.</summary>
public sealed class DistributedSamplerTests
{
    static SamplerConfig Sampler(int batchSize, bool shuffle = false, bool dropLast = false) =>
        new(SamplerKind.DistributedBatch, batchSize, dropLast, shuffle);

    static int[][] Plan(int samples, SamplerConfig sampler, int rank, int ranks, bool pad = true) =>
        BatchPlan.Plan(samples, sampler, seed: 7, epoch: 1, new DataShard(rank, ranks, pad));

    [Test]
    public void Each_rank_takes_its_batch_size_piece_of_every_global_batch_and_an_even_share_of_the_tail()
    {
        // 10 samples, batch 2, 2 ranks: global batches [0..3], [4..7], tail [8, 9].
        Assert.That(Plan(10, Sampler(2), 0, 2), Is.EqualTo(new[] { new[] { 0, 1 }, [4, 5], [8] }));
        Assert.That(Plan(10, Sampler(2), 1, 2), Is.EqualTo(new[] { new[] { 2, 3 }, [6, 7], [9] }));
    }

    [Test]
    public void Training_pads_from_the_start_so_every_rank_gets_as_many_samples()
    {
        // 9 samples on 2 ranks pad to 10 with sample 0: the tail is [8, 0].
        Assert.That(Plan(9, Sampler(2), 0, 2), Is.EqualTo(new[] { new[] { 0, 1 }, [4, 5], [8] }));
        Assert.That(Plan(9, Sampler(2), 1, 2), Is.EqualTo(new[] { new[] { 2, 3 }, [6, 7], [0] }));
        // 10 samples on 3 ranks pad to 12 ([0..9, 0, 1]); the tail [6..9, 0, 1] gives each rank two.
        Assert.That(Plan(10, Sampler(2), 2, 3), Is.EqualTo(new[] { new[] { 4, 5 }, [0, 1] }));
        Assert.That(BatchPlan.BatchCount(10, Sampler(2), new DataShard(2, 3, true)), Is.EqualTo(2));
    }

    [Test]
    public void Eval_without_padding_loads_every_sample_exactly_once_across_the_ranks()
    {
        var rank0 = Plan(9, Sampler(2), 0, 2, pad: false);
        var rank1 = Plan(9, Sampler(2), 1, 2, pad: false);
        Assert.That(rank0, Is.EqualTo(new[] { new[] { 0, 1 }, [4, 5], [8] }));
        Assert.That(rank1, Is.EqualTo(new[] { new[] { 2, 3 }, [6, 7] }));
        Assert.That(BatchPlan.BatchCount(9, Sampler(2), new DataShard(1, 2, false)), Is.EqualTo(2));
    }

    [Test]
    public void Two_ranks_with_batch_b_see_the_samples_of_one_rank_with_batch_2b_step_by_step()
    {
        // The same shuffled order on every rank: rank 0's batch k then rank 1's is the single process's batch k.
        var whole = BatchPlan.Plan(32, Sampler(8, shuffle: true), seed: 7, epoch: 3);
        var rank0 = BatchPlan.Plan(32, Sampler(4, shuffle: true), seed: 7, epoch: 3, new DataShard(0, 2, true));
        var rank1 = BatchPlan.Plan(32, Sampler(4, shuffle: true), seed: 7, epoch: 3, new DataShard(1, 2, true));
        Assert.That(whole, Has.Length.EqualTo(4));
        Assert.That(whole.Select(b => b), Is.Not.EqualTo(Enumerable.Range(0, 32).Chunk(8)), "shuffled");
        for (int k = 0; k < whole.Length; k++)
            Assert.That(rank0[k].Concat(rank1[k]), Is.EqualTo(whole[k]), $"global batch {k}");
    }

    [Test]
    public void Drop_last_applies_to_each_ranks_own_batches()
    {
        // 10 samples, batch 4, 2 ranks: global batch [0..7] then tail [8, 9]: rank 1 has [4..7] and [9].
        Assert.That(Plan(10, Sampler(4, dropLast: true), 1, 2), Is.EqualTo(new[] { new[] { 4, 5, 6, 7 } }));
        Assert.That(Plan(10, Sampler(4), 1, 2), Is.EqualTo(new[] { new[] { 4, 5, 6, 7 }, [9] }));
    }

    [Test]
    public void One_rank_plans_the_epochs_permutation_cut_into_batches_as_before_sharding()
    {
        var permutation = SampleRandom.For(5, SampleRandom.ShuffleStream, 2, 0).Permutation(11);
        Assert.That(BatchPlan.Plan(11, Sampler(3, shuffle: true), 5, 2, DataShard.Whole), Is.EqualTo(permutation.Chunk(3)));
    }
}
