using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>
/// A model whose inference output is an embedding rather than class scores (RecModel, as
/// PaddleClas exports it with <c>infer_output_key: features</c> and no Softmax).
/// </summary>
public interface IEmbeddingModel
{
    /// <summary>
    /// A module sharing this model's layers whose forward returns the <c>features</c> output
    /// [N, D] and which writes the same computation to ONNX.
    /// </summary>
    nn.Module<Tensor, Tensor> Embedding();
}
