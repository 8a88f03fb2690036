using Ppcls.Data.Datasets;
using OpenCvSharp;
using Ppcls.Core;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;

namespace Ppcls.Data.Loading;

/// <summary>How a loader cuts each epoch into batches: chosen once from the sampler when the loader is built.</summary>
interface IEpochPlan
{
    int BatchCount { get; }

    /// <summary>The (images, size) of the epochs' batches, at most: size null where the chain's own output size applies.</summary>
    IEnumerable<(int Images, Size? Size)> BatchShapes { get; }

    /// <summary>The epoch's batches: sample indices and the chain their images go through.</summary>
    PlannedBatch[] Plan(int epoch);
}

static class EpochPlan
{
    /// <summary>The plan of <paramref name="sampler"/>'s kind over <paramref name="dataset"/>; a sampler that cannot shard yet is an error under several ranks.</summary>
    public static IEpochPlan For(SamplerConfig sampler, IDataset dataset, SamplePipeline pipeline, long seed, DataShard shard) => sampler.Kind switch
    {
        SamplerKind.MultiScale when !shard.IsWhole =>
            throw new PpclsUserException($"{SamplerConfig.MultiScaleName} does not shard its batches across {shard.Count} ranks yet; " +
                "use DistributedBatchSampler (with ImageNetDataset) for data-parallel training, or run without mpirun"),
        SamplerKind.MultiScale => new MultiScaleEpochs(new MultiScalePlan(dataset.Count, sampler.MultiScale!, sampler.Shuffle, seed),
            MultiScalePlan.Resolutions(sampler.MultiScale!).Select(r => r.Size).Distinct().ToDictionary(size => size, pipeline.WithSize)),
        SamplerKind.PK or SamplerKind.RandomIdentity or SamplerKind.ClassBalanced when !shard.IsWhole =>
            throw new PpclsUserException($"{sampler.Name} does not shard its batches across {shard.Count} ranks yet; run metric learning without mpirun"),
        SamplerKind.PK or SamplerKind.RandomIdentity => new IdentityEpochs(dataset, sampler, seed, pipeline),
        SamplerKind.ClassBalanced => new ClassBalancedEpochs(dataset, sampler, seed, pipeline),
        _ => new SequentialEpochs(dataset.Count, sampler, seed, shard, pipeline),
    };

    /// <summary>DistributedBatchSampler / BatchSampler (<see cref="BatchPlan"/>).</summary>
    sealed class SequentialEpochs(int samples, SamplerConfig sampler, long seed, DataShard shard, SamplePipeline pipeline) : IEpochPlan
    {
        public int BatchCount { get; } = BatchPlan.BatchCount(samples, sampler, shard);

        public IEnumerable<(int Images, Size? Size)> BatchShapes => [(Math.Min(sampler.BatchSize, samples), null)];

        public PlannedBatch[] Plan(int epoch) =>
            [.. BatchPlan.Plan(samples, sampler, seed, epoch, shard).Select(indices => new PlannedBatch(indices, pipeline))];
    }

    /// <summary>PKSampler / DistributedRandomIdentitySampler (<see cref="IdentityPlan"/>).</summary>
    sealed class IdentityEpochs(IDataset dataset, SamplerConfig sampler, long seed, SamplePipeline pipeline) : IEpochPlan
    {
        public int BatchCount { get; } = IdentityPlan.BatchCount(dataset.Count, sampler.BatchSize);

        // Classes with fewer than K images repeat them: every batch holds batch_size images.
        public IEnumerable<(int Images, Size? Size)> BatchShapes => [(sampler.BatchSize, null)];

        public PlannedBatch[] Plan(int epoch)
        {
            long[] labels = [.. Enumerable.Range(0, dataset.Count).Select(dataset.Label)];
            var batches = IdentityPlan.Plan(labels, sampler.BatchSize, sampler.InstancesPerClass!.Value, seed, epoch, sampler.ClassDraw);
            return [.. batches.Select(indices => new PlannedBatch(indices, pipeline))];
        }
    }

    /// <summary>ClassBalancedSampler (<see cref="ClassBalancedPlan"/>).</summary>
    sealed class ClassBalancedEpochs(IDataset dataset, SamplerConfig sampler, long seed, SamplePipeline pipeline) : IEpochPlan
    {
        public int BatchCount { get; } = ClassBalancedPlan.BatchCount(dataset.Count, sampler.BatchSize, sampler.DropLast);

        public IEnumerable<(int Images, Size? Size)> BatchShapes => [(Math.Min(sampler.BatchSize, dataset.Count), null)];

        public PlannedBatch[] Plan(int epoch)
        {
            long[] labels = [.. Enumerable.Range(0, dataset.Count).Select(dataset.Label)];
            var batches = ClassBalancedPlan.Plan(labels, sampler.BatchSize, sampler.DropLast, seed, epoch);
            return [.. batches.Select(indices => new PlannedBatch(indices, pipeline))];
        }
    }

    /// <summary>MultiScaleSampler (<see cref="MultiScalePlan"/>): each batch's images go through the chain sized for it.</summary>
    sealed class MultiScaleEpochs(MultiScalePlan plan, Dictionary<Size, SamplePipeline> sizedPipelines) : IEpochPlan
    {
        public int BatchCount => plan.BatchCount;

        public IEnumerable<(int Images, Size? Size)> BatchShapes => plan.Batches.Distinct().Select(b => (b.BatchSize, (Size?)b.Size));

        public PlannedBatch[] Plan(int epoch) => [.. plan.Plan(epoch).Select(b => new PlannedBatch(b.Indices, sizedPipelines[b.Size]))];
    }
}
