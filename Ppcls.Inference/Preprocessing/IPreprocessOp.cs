using OpenCvSharp;

namespace Ppcls.Inference.Preprocessing;

/// <summary>
/// One deploy preprocessing op on a decoded HWC image, as PaddleClas's deploy predictor lists
/// them in `PreProcess.transform_ops`. Ppcls.Data's training ops of the same names run the same
/// image code (they call these ops), so training, `infer` and `predict` agree to the bit.
/// </summary>
public interface IPreprocessOp
{
    /// <summary>The op's result: a new image or a view of <paramref name="image"/>; <paramref name="source"/> names the file in messages.</summary>
    Mat Apply(Mat image, string source);
}
