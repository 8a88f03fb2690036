namespace Ppcls.Core.Models;

/// <summary>
/// PaddleClas's TheseusLayer <c>return_patterns</c>: a model that, once told which of its layers to
/// return, also returns each named layer's output beside its logits from
/// <see cref="IMultiOutputModel.ForwardOutputs"/> (keys: the pattern as written, e.g. <c>blocks3</c>;
/// <c>logits</c> for the logits), so a distillation loss reads <c>Student.blocks3</c> by <c>key</c>.
/// </summary>
public interface ILayerOutputs : IMultiOutputModel
{
    /// <summary>
    /// Returns the outputs of <paramref name="patterns"/> too: layer paths as in the state dict
    /// (<c>blocks3</c>, <c>blocks.2</c>) or in PaddleClas's index form (<c>blocks[2]</c>). An unknown
    /// name is an <see cref="ArgumentException"/> listing the valid ones.
    /// </summary>
    void ReturnLayerOutputs(IReadOnlyList<string> patterns);

    /// <summary>The patterns set by <see cref="ReturnLayerOutputs"/> (empty: logits only).</summary>
    IReadOnlyList<string> ReturnedLayers { get; }
}
