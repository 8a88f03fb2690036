using Ppcls.Core.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>
/// A registered model: its PaddleClas name, family, preset, and a factory that reads the
/// constructor options it knows (`class_num`, `scale`, `use_lab`, ...) from the Arch
/// section. Options it does not read are rejected by the caller afterwards.
/// </summary>
public sealed record ModelEntry(
    string Name,
    string Family,
    ModelPreset Preset,
    Func<ConfigSection, nn.Module<Tensor, Tensor>> Create);
