using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>Builds the model an `Arch` section names, validating its options against what the model reads.</summary>
public static class ModelBuilder
{
    /// <summary>Arch keys PaddleClas has that change nothing here (accepted with a notice).</summary>
    static readonly string[] PaddleOnlyArchKeys = ["use_sync_bn", "use_ssld", "data_format", "use_fused_attn", "use_fused_linear"];

    public static nn.Module<Tensor, Tensor> Build(ArchConfig arch, ModelRegistry registry, Action<string> notice) =>
        BuildWithPreset(arch, registry, notice).Module;

    /// <summary>The model and its preset; a composite (DistillationModel, RecModel) builds its parts through the registry.</summary>
    public static BuiltModel BuildWithPreset(ArchConfig arch, ModelRegistry registry, Action<string> notice)
    {
        BuiltModel built;
        if (registry.Composite(arch.Name) is { } composite) built = composite.Create(arch.Options, registry, notice);
        else
        {
            var entry = registry.Get(arch.Name, arch.Options.KeyPath("name"), arch.NameLocation);
            built = new BuiltModel(entry.Create(arch.Options), entry.Preset);
        }
        arch.Options.Finish(notice, PaddleOnlyArchKeys);
        if (arch.UseMlDecoder) AttachMlDecoder(arch, registry, built);
        return built;
    }

    static void AttachMlDecoder(ArchConfig arch, ModelRegistry registry, BuiltModel built)
    {
        string key = arch.Options.KeyPath("use_ml_decoder");
        if (registry.Composite(arch.Name) is not null || registry.MlDecoder is not { } attach)
            throw ConfigException.At(key, null, $"the ML-Decoder head replaces a single network's classifier; {arch.Name} is not one (name a backbone such as PPHGNetV2_B0 or PPLCNet_x1_0 in Arch.name)");
        var section = arch.MlDecoder ?? new ConfigSection(new ConfigMap(), "MLDecoder");
        attach(built.Module, section, new ModelRegistry.ArchConfigView(arch.Name, arch.ClassNum, key));
    }
}
