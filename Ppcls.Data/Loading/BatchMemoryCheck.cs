using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;

namespace Ppcls.Data.Loading;

/// <summary>
/// Checks, when a loader is built and before any image is read, that its largest batch tensor
/// (images x 3 x H x W float32) fits in the memory the machine has available: a typo such as
/// `batch_size: 10000000` or a huge crop would otherwise run until the kernel kills the process.
/// H x W is the batch's MultiScaleSampler scale, else the output of the last op that sets it (at
/// least resize_short squared for ResizeImage's resize_short); a chain without such an op keeps
/// the images' own sizes and is not checked.
/// </summary>
static class BatchMemoryCheck
{
    /// <param name="output">The last sized op's output, with the full key that sets it; null when no op sets it.</param>
    public static void Check(LoaderConfig config, IEnumerable<(int Images, Size? Size)> batches, (Size Size, string Key, bool Exact)? output, long? available)
    {
        if (available is not { } free) return;
        bool multiScale = config.Sampler.Kind == SamplerKind.MultiScale;
        foreach (var (images, scale) in batches)
        {
            if ((scale ?? output?.Size) is not { } size) continue;
            // In doubles: a 65536-px scale times a large batch overflows a long.
            double bytes = (double)images * 3 * size.Width * size.Height * sizeof(float);
            if (bytes <= free) continue;
            string batchKey = $"{config.KeyPath}.sampler.{(multiScale ? "first_bs" : "batch_size")}";
            string sizeKey = multiScale ? $"{config.KeyPath}.sampler.scales" : output!.Value.Key;
            string atLeast = scale is null && !output!.Value.Exact ? "at least " : "";
            throw ConfigException.At(batchKey, null,
                $"a batch of {images} image{(images == 1 ? "" : "s")} of 3 x {size.Height} x {size.Width} float32 needs {atLeast}{Amount(bytes)}, " +
                $"more than the {Amount(free)} of memory available; lower {batchKey} or {sizeKey}");
        }
    }

    static string Amount(double bytes) => bytes >= 1L << 30 ? $"{bytes / (1L << 30):0.0} GiB" : $"{bytes / (1L << 20):0.0} MiB";
}
