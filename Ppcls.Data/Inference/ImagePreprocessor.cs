using Ppcls.Core.Config;
using Ppcls.Core.Inference;
using Ppcls.Data.Imaging;
using Ppcls.Data.Loading;

namespace Ppcls.Data.Inference;

/// <summary>
/// Inference preprocessing with the training pipeline's OpenCV ops: `Infer.transforms` for
/// `ppcls infer`, or a deploy config's `PreProcess.transform_ops` (decoding to RGB first, as
/// PaddleClas's predictor does) for `ppcls predict` and the export check. A file that cannot be
/// read or decoded is an <see cref="UnreadableImageException"/> naming it.
/// </summary>
public sealed class ImagePreprocessor(SamplePipeline pipeline) : IImagePreprocessor
{
    readonly Random _rng = new(0);

    public SamplePipeline Pipeline { get; } = pipeline;

    /// <summary>A training-config op list (`Infer.transforms`), which starts with DecodeImage.</summary>
    public static ImagePreprocessor FromTransforms(IReadOnlyList<NamedEntry> ops, string listPath, Action<string> notice) =>
        new(Factory().BuildPipeline(ops, listPath, Context(notice)));

    /// <summary>A deploy op list (`PreProcess.transform_ops`): images are decoded to RGB first unless the list decodes itself.</summary>
    public static ImagePreprocessor FromDeployOps(IReadOnlyList<NamedEntry> ops, string listPath, Action<string> notice)
    {
        var all = ops.Count > 0 && ops[0].Name == "DecodeImage"
            ? ops
            : [new NamedEntry("DecodeImage", new ConfigSection(new ConfigMap(), $"{listPath}(decode)")), .. ops];
        return new(Factory().BuildPipeline(all, listPath, Context(notice)));
    }

    static DataLoaderFactory Factory() => new(DataCatalog.CreateRegistry());

    static DataBuildContext Context(Action<string> notice) => new(DataCatalog.CreateRegistry(), 0, notice);

    public (float[] Chw, int C, int H, int W) Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnreadableImageException($"cannot read image {path}: {e.Message}");
        }
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
