using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>An eval pass the trainer runs every `eval_interval` epochs: classification (<see cref="Evaluator"/>) or retrieval (<see cref="RetrievalEvaluator"/>).</summary>
public interface IEvaluator
{
    /// <summary>Evaluates <paramref name="model"/>, logs PaddleClas's `[Eval][Epoch N][Avg]` line and returns its values and primary metric.</summary>
    EvalResult Run(nn.Module<Tensor, Tensor> model, int epoch);
}
