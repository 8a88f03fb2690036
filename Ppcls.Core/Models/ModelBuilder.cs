using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>Builds the model an `Arch` section names, validating its options against what the model reads.</summary>
public static class ModelBuilder
{
    /// <summary>Arch keys PaddleClas has that change nothing here (accepted with a notice).</summary>
    static readonly string[] PaddleOnlyArchKeys = ["use_ssld", "data_format", "use_fused_attn", "use_fused_linear"];

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
            var module = entry.Create(arch.Options);
            ReturnLayerOutputs(arch.Options, module, notice);
            built = new BuiltModel(module, entry.Preset);
        }
        arch.Options.Finish(notice, PaddleOnlyArchKeys);
        if (arch.UseMlDecoder) AttachMlDecoder(arch, registry, built);
        return built;
    }

    /// <summary>
    /// PaddleClas's TheseusLayer options: <c>return_patterns</c> names layers whose outputs the model
    /// returns beside its logits (<see cref="ILayerOutputs"/>). <c>return_stages</c> (stage indices, or True
    /// for all) is ignored beside <c>return_patterns</c>, as PaddleClas ignores it, and refused alone.
    /// </summary>
    static void ReturnLayerOutputs(ConfigSection options, nn.Module<Tensor, Tensor> model, Action<string> notice)
    {
        var patternsNode = options.Raw("return_patterns");
        bool hasPatterns = patternsNode is not (null or ConfigScalar { IsNull: true } or ConfigScalar { Text: "False" or "false" });
        if (options.Raw("return_stages") is { } stages and not (ConfigScalar { IsNull: true } or ConfigScalar { Text: "False" or "false" }))
        {
            if (!hasPatterns)
                throw ConfigException.At(options.KeyPath("return_stages"), stages.Location ?? options.Location,
                    "returning stages by index is not supported; name the layers with return_patterns instead, e.g. return_patterns: [blocks3, blocks4]");
            notice($"{options.KeyPath("return_stages")} is ignored beside return_patterns, as in PaddleClas");
        }
        if (!hasPatterns) return;
        var patterns = options.OptionalStringList("return_patterns")!;
        var where = patternsNode!.Location ?? options.Location;
        if (model is not ILayerOutputs layers)
            throw ConfigException.At(options.KeyPath("return_patterns"), where, $"{model.GetType().Name} cannot return intermediate outputs; remove this key");
        try
        {
            layers.ReturnLayerOutputs(patterns);
        }
        catch (ArgumentException e)
        {
            throw ConfigException.At(options.KeyPath("return_patterns"), where, e.Message.Split(" (Parameter")[0]);
        }
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
