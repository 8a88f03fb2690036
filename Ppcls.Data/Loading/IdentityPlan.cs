using Ppcls.Core;
using Ppcls.Core.Config.Sections;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Loading;

/// <summary>
/// PKSampler / DistributedRandomIdentitySampler for one rank: every batch holds P = batch_size /
/// K classes with K images each (K = `sample_per_id` / `num_instances`), so batch-hard triplet
/// losses find positives and negatives in it. Per epoch, from (seed, epoch): without a
/// <see cref="ClassDraw"/> (DistributedRandomIdentitySampler) the classes are shuffled and taken P
/// at a time (cycling when fewer than needed); with one (PKSampler) each batch draws P distinct
/// classes with probability proportional to their weights, as numpy's choice(replace=False, p=...)
/// does in PaddleClas (classes repeat only when fewer than P have a positive weight). Each class
/// gives K of its images without repeats while it has enough, with repeats otherwise. An epoch has
/// samples / batch_size batches (at least one).
/// </summary>
public static class IdentityPlan
{
    public static int BatchCount(int samples, int batchSize) => Math.Max(1, samples / batchSize);

    public static int[][] Plan(IReadOnlyList<long> labels, int batchSize, int perClass, long seed, int epoch, ClassDraw? draw = null)
    {
        var rng = SampleRandom.For(seed, SampleRandom.ShuffleStream, epoch, 1);
        var groups = labels.Select((label, index) => (label, index)).GroupBy(p => p.label).OrderBy(g => g.Key).ToArray();
        var byClass = groups.Select(g => g.Select(p => p.index).ToArray()).ToArray();
        double[]? weights = draw is null ? null : [.. groups.Select((g, c) => draw.Weight(g.Key, byClass[c].Length))];
        if (weights is not null && !weights.Any(w => w > 0))
            throw new PpclsUserException("PKSampler: every class has weight 0 (check id_list and ratio); give some classes a positive ratio");
        int classesPerBatch = batchSize / perClass;
        int count = BatchCount(labels.Count, batchSize);
        var classOrder = new List<int>();
        var batches = new int[count][];
        for (int b = 0; b < count; b++)
        {
            var classes = weights is null ? new List<int>(classesPerBatch) : WeightedDistinct(rng, weights, classesPerBatch);
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

    /// <summary>
    /// <paramref name="take"/> classes drawn without replacement with probability proportional to
    /// <paramref name="weights"/> (Efraimidis-Spirakis keys log(u) / w, largest first); when fewer
    /// classes have a positive weight, the rest are drawn again with replacement.
    /// </summary>
    static List<int> WeightedDistinct(Random rng, double[] weights, int take)
    {
        var chosen = Enumerable.Range(0, weights.Length).Where(c => weights[c] > 0)
            .Select(c => (c, key: Math.Log(1.0 - rng.NextDouble()) / weights[c]))
            .OrderByDescending(p => p.key).Take(take).Select(p => p.c).ToList();
        double total = weights.Sum();
        while (chosen.Count < take)
        {
            double u = rng.NextDouble() * total;
            int c = 0;
            while (c < weights.Length - 1 && (u -= weights[c]) >= 0) c++;
            chosen.Add(c);
        }
        return chosen;
    }
}
