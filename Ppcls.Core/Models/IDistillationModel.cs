using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>One model of a DistillationModel: its name in <c>Arch.models</c> (<c>Teacher</c>), the module, and whether it is frozen.</summary>
public sealed record SubModel(string Name, nn.Module<Tensor, Tensor> Module, bool Frozen);

/// <summary>
/// PaddleClas's <c>DistillationModel</c> seen by the engine: its sub-models (a frozen one runs in
/// eval mode under no-grad and has no trainable parameters) and the one eval, export and infer
/// use (<c>infer_model_name</c>).
/// </summary>
public interface IDistillationModel : IMultiOutputModel
{
    IReadOnlyList<SubModel> Models { get; }
    SubModel InferModel { get; }
}

/// <summary>The module that export and infer run: a distillation model's infer model, else the model itself.</summary>
public static class InferenceModel
{
    public static nn.Module<Tensor, Tensor> Of(nn.Module<Tensor, Tensor> model) =>
        model is IDistillationModel distillation ? distillation.InferModel.Module : model;
}
