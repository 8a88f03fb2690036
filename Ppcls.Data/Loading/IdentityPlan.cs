using Ppcls.Data.Imaging;

namespace Ppcls.Data.Loading;

/// <summary>
/// PKSampler / DistributedRandomIdentitySampler for one rank: every batch holds P = batch_size /
/// K classes with K images each (K = `sample_per_id` / `num_instances`), so batch-hard triplet
/// losses find positives and negatives in it. Per epoch, from (seed, epoch): the classes are
/// shuffled and taken P at a time (cycling when fewer than needed), and each class gives K of its
/// images without repeats while it has enough, with repeats otherwise. An epoch has
/// samples / batch_size batches (at least one).
/// </summary>
public static class IdentityPlan
{
    public static int BatchCount(int samples, int batchSize) => Math.Max(1, samples / batchSize);

    public static int[][] Plan(IReadOnlyList<long> labels, int batchSize, int perClass, long seed, int epoch)
    {
        var rng = SampleRandom.For(seed, SampleRandom.ShuffleStream, epoch, 1);
        var byClass = labels.Select((label, index) => (label, index)).GroupBy(p => p.label)
            .OrderBy(g => g.Key).Select(g => g.Select(p => p.index).ToArray()).ToArray();
        int classesPerBatch = batchSize / perClass;
        int count = BatchCount(labels.Count, batchSize);
        var classOrder = new List<int>();
        var batches = new int[count][];
        for (int b = 0; b < count; b++)
        {
            var classes = new List<int>(classesPerBatch);
            while (classes.Count < classesPerBatch)
            {
                if (classOrder.Count == 0) classOrder.AddRange(rng.Permutation(byClass.Length));
                int cls = classOrder[^1];
                classOrder.RemoveAt(classOrder.Count - 1);
                // A class appears once per batch unless there are fewer classes than P: defer the repeat.
                if (classes.Contains(cls) && byClass.Length >= classesPerBatch) classOrder.Insert(0, cls);
                else classes.Add(cls);
            }
            var batch = new List<int>(batchSize);
            foreach (int cls in classes)
            {
                var images = byClass[cls];
                batch.AddRange(images.Length >= perClass
                    ? rng.Permutation(images.Length).Take(perClass).Select(i => images[i])
                    : Enumerable.Range(0, perClass).Select(_ => images[rng.Next(images.Length)]));
            }
            batches[b] = [.. batch];
        }
        return batches;
    }
}
