namespace Ppcls.Inference;

/// <summary>
/// Reads one image file and runs the inference preprocessing (resize, crop, normalise) to CHW
/// float32: <see cref="Preprocessing.DeployPreprocessor"/> for an exported model's ops, and
/// Ppcls.Data's pipeline for a training config's `Infer.transforms`; the classifier needs nothing else.
/// </summary>
public interface IImagePreprocessor
{
    /// <summary>The image as CHW floats; <see cref="UnreadableImageException"/> when it cannot be read or decoded.</summary>
    (float[] Chw, int C, int H, int W) Load(string path);
}

/// <summary>An image that cannot be read or decoded: reported by name and skipped.</summary>
public sealed class UnreadableImageException(string message) : Exception(message);
