using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Models.Gears;

/// <summary>
/// A RecModel neck or head (PaddleClas's <c>build_gear</c> entries): <c>forward</c> is what eval and
/// export run; <see cref="Forward(Tensor, Tensor?)"/> is the training call, which hands the batch's
/// class ids to a margin head as PaddleClas's <c>RecModel.forward(x, label)</c> does.
/// </summary>
public abstract class RecGear(string name) : nn.Module<Tensor, Tensor>(name), IOnnxExportable
{
    /// <summary>The width of what the gear outputs (embedding size, or class count for a head).</summary>
    public abstract int OutputSize { get; }

    /// <summary>With <paramref name="label"/> (int64 [N]) in training a margin head adds its margin; other gears ignore it.</summary>
    public virtual Tensor Forward(Tensor x, Tensor? label) => call(x);

    /// <summary>Parameter name (relative to the gear) -> learning-rate multiplier from its <c>*_attr.learning_rate</c>.</summary>
    public virtual IEnumerable<(string Name, double Multiplier)> LearningRateMultipliers() => [];

    public abstract string ToOnnx(OnnxGraph graph, string input);
}
