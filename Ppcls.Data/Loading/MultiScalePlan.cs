using OpenCvSharp;
using Ppcls.Core.Config.Sections;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Loading;

/// <summary>
/// MultiScaleSampler's batches, formed as PaddleClas forms them. Training: every scale is rounded
/// down to a multiple of `divided_factor` and gets the batch size that keeps
/// width x height x batch equal to the first (unrounded) scale's with `first_bs`, at least 1.
/// The sequence of (size, batch size) is drawn once, scale by scale at random, until the batches
/// cover the data set; it stays the same every epoch, while the sample order is reshuffled per
/// epoch (with `shuffle`). The last batch is filled up with samples from the start of the order.
/// Not training: every batch has the first scale and `first_bs`.
/// </summary>
public sealed class MultiScalePlan
{
    /// <summary>The random stream that draws the sequence of scales.</summary>
    public const long ScaleStream = 0x5CA1E;

    readonly (Size Size, int BatchSize)[] _batches;
    readonly int _samples;
    readonly bool _shuffle;
    readonly long _seed;

    public MultiScalePlan(int samples, MultiScaleConfig config, bool shuffle, long seed)
    {
        _samples = samples;
        _shuffle = shuffle;
        _seed = seed;
        var choices = Resolutions(config);
        var rng = SampleRandom.For(seed, ScaleStream, 0, 0);
        var batches = new List<(Size, int)>();
        for (int covered = 0; covered < samples;)
        {
            var (size, batchSize) = choices[rng.Next(choices.Count)];
            int taken = Math.Min(batchSize, samples - covered);
            // A short last batch is filled up from the start of the order, with at most every sample once more.
            int filled = taken + Math.Min(batchSize - taken, samples);
            batches.Add((size, filled));
            covered += batchSize;
        }
        _batches = [.. batches];
    }

    /// <summary>The (size, batch size) pairs the batches are drawn from.</summary>
    public static IReadOnlyList<(Size Size, int BatchSize)> Resolutions(MultiScaleConfig config)
    {
        var (baseWidth, baseHeight) = config.Scales[0];
        if (!config.IsTraining) return [(new Size(baseWidth, baseHeight), config.FirstBatchSize)];
        double baseElements = (double)baseWidth * baseHeight * config.FirstBatchSize;
        int f = config.DividedFactor;
        return [.. config.Scales.Select(s =>
        {
            int w = s.Width / f * f, h = s.Height / f * f;
            return (new Size(w, h), Math.Max(1, (int)(baseElements / ((double)h * w))));
        })];
    }

    public int BatchCount => _batches.Length;

    /// <summary>Each batch's image size and number of images, the same every epoch.</summary>
    public IReadOnlyList<(Size Size, int BatchSize)> Batches => _batches;

    /// <summary>The epoch's batches in order: sample indices and the size their images are cropped or resized to.</summary>
    public (int[] Indices, Size Size)[] Plan(int epoch)
    {
        var order = _shuffle
            ? SampleRandom.For(_seed, SampleRandom.ShuffleStream, epoch, 0).Permutation(_samples)
            : Enumerable.Range(0, _samples).ToArray();
        var plan = new (int[], Size)[_batches.Length];
        int start = 0;
        for (int b = 0; b < _batches.Length; b++)
        {
            var (size, batchSize) = _batches[b];
            int end = Math.Min(start + batchSize, _samples);
            var indices = order[start..end];
            if (indices.Length < batchSize) indices = [.. indices, .. order[..Math.Min(batchSize - indices.Length, _samples)]];
            plan[b] = (indices, size);
            start += batchSize;
        }
        return plan;
    }
}
