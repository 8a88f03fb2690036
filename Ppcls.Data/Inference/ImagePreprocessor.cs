using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Data.Loading;
using Ppcls.Inference;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Inference;

/// <summary>
/// `ppcls infer`'s preprocessing: a training config's `Infer.transforms` run by the training
/// pipeline's OpenCV ops (any transform op, random ones seeded). A file that cannot be read or
/// decoded is an <see cref="UnreadableImageException"/> naming it. The deploy side
/// (`ppcls predict`, the export check) uses <see cref="DeployOps"/> instead.
/// </summary>
public sealed class ImagePreprocessor(SamplePipeline pipeline) : IImagePreprocessor
{
    readonly Random _rng = new(0);

    public SamplePipeline Pipeline { get; } = pipeline;

    /// <summary>A training-config op list (`Infer.transforms`), which starts with DecodeImage.</summary>
    public static ImagePreprocessor FromTransforms(IReadOnlyList<NamedEntry> ops, string listPath, Action<string> notice)
    {
        var registry = DataCatalog.CreateRegistry();
        return new(new DataLoaderFactory(registry).BuildPipeline(ops, listPath, new DataBuildContext(registry, 0, notice)));
    }

    public (float[] Chw, int C, int H, int W) Load(string path)
    {
        var bytes = ImageDecoder.ReadFile(path);
        try
        {
            return Pipeline.Process(bytes, path, _rng);
        }
        catch (BadImageException e)
        {
            throw new UnreadableImageException(e.Message);
        }
    }
}
