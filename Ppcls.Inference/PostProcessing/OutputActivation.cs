namespace Ppcls.Inference;

/// <summary>
/// What turns the network's logits into the scores a post-process reads. PaddleClas's export
/// appends Softmax, or Sigmoid for multi-label and attribute models; its `infer` applies the same
/// inside the post-process. Ppcls applies it in the model (exported graph, or before the
/// post-process in `infer`), so each post-process reads scores on both sides.
/// </summary>
public enum OutputActivation
{
    Softmax,
    Sigmoid,
}
