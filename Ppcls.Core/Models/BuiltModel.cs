using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>A model built from an Arch section, with the preset its weights and inputs follow.</summary>
public sealed record BuiltModel(nn.Module<Tensor, Tensor> Module, ModelPreset Preset);
