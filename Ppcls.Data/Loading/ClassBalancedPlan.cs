using Ppcls.Data.Imaging;

namespace Ppcls.Data.Loading;

/// <summary>
/// `ClassBalancedSampler` (a Ppcls addition, not in PaddleClas) for imbalanced classification data:
/// an epoch draws as many samples as the data set holds, each by picking a class uniformly and then
/// one of its images uniformly, with replacement, so every class is seen about equally often however
/// few images it has. Batches of batch_size; with drop_last the short last batch is dropped.
/// Deterministic in (seed, epoch).
/// </summary>
public static class ClassBalancedPlan
{
    public static int BatchCount(int samples, int batchSize, bool dropLast) =>
        Math.Max(1, dropLast ? samples / batchSize : (samples + batchSize - 1) / batchSize);

    public static int[][] Plan(IReadOnlyList<long> labels, int batchSize, bool dropLast, long seed, int epoch)
    {
        var rng = SampleRandom.For(seed, SampleRandom.ShuffleStream, epoch, 2);
        var byClass = labels.Select((label, index) => (label, index)).GroupBy(p => p.label)
            .OrderBy(g => g.Key).Select(g => g.Select(p => p.index).ToArray()).ToArray();
        int count = BatchCount(labels.Count, batchSize, dropLast);
        int total = dropLast ? Math.Max(count * batchSize, batchSize) : labels.Count;
        var batches = new int[count][];
        for (int b = 0; b < count; b++)
        {
            int size = Math.Min(batchSize, Math.Max(1, total - b * batchSize));
            batches[b] = new int[size];
            for (int i = 0; i < size; i++)
            {
                var images = byClass[rng.Next(byClass.Length)];
                batches[b][i] = images[rng.Next(images.Length)];
            }
        }
        return batches;
    }
}
