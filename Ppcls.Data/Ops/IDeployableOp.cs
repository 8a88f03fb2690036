using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Ops;

/// <summary>
/// A transform op that PaddleClas's deploy predictor also runs (ResizeImage, CropImage,
/// NormalizeImage, ToCHWImage): its Ppcls.Inference twin, built from the same options.
/// </summary>
public interface IDeployableOp
{
    /// <summary>The deploy op; <paramref name="keyPath"/> names the op list in errors.</summary>
    IPreprocessOp ToDeploy(string keyPath);
}
