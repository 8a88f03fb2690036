using Ppcls.Core.Checkpoint;
using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>
/// A model built from an Arch section, with the preset its weights and inputs follow, and the
/// weights its parts name for themselves (a DistillationModel's `pretrained` per model, a RecModel's
/// `Backbone.pretrained`), which <see cref="ConfiguredWeights"/> loads: factories build, they never read files.
/// </summary>
public sealed record BuiltModel(nn.Module<Tensor, Tensor> Module, ModelPreset Preset)
{
    public IReadOnlyList<WeightRequest> PartWeights { get; init; } = [];
}
