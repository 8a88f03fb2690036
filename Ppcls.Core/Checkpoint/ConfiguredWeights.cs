using Ppcls.Core.Config;
using Ppcls.Core.Models;

namespace Ppcls.Core.Checkpoint;

/// <summary>
/// The weights a config names for its model, loaded in PaddleClas's order: each part's own
/// (<see cref="BuiltModel.PartWeights"/>), then `Arch.pretrained` (loaded when PaddleClas builds the
/// model), then `Global.pretrained_model`. Both keys mean the same in train, eval, infer and export;
/// only the classifier policy differs (train fine-tunes, the others need weights that fit).
/// </summary>
public static class ConfiguredWeights
{
    /// <summary>
    /// `Arch.pretrained` (a path, or True: the model's file in <see cref="PretrainedStore"/>) and `Global.pretrained_model`,
    /// where set, in load order. A missing store file is an error, or with <paramref name="missingPretrained"/> (a check
    /// run) reported there and left out.
    /// </summary>
    public static IReadOnlyList<WeightRequest> ModelLevel(BuiltModel built, PpclsConfig config, Action<string>? missingPretrained = null)
    {
        var requests = new List<WeightRequest>();
        if (config.Arch.PretrainedPath is { } arch) requests.Add(new WeightRequest(arch, "Arch.pretrained", built.Module, built.Preset));
        if (config.Arch.PretrainedFromHub)
        {
            var (name, preset, ssld) = (config.Arch.Name, built.Preset, config.Arch.UseSsld);
            if (PretrainedStore.Find(name, preset, ssld) is { } file) requests.Add(new WeightRequest(file, "Arch.pretrained", built.Module, preset));
            else if (missingPretrained is not null) missingPretrained(PretrainedStore.MissingMessage(name, preset, ssld, "Arch.pretrained"));
            else throw new PpclsUserException(PretrainedStore.MissingMessage(name, preset, ssld, "Arch.pretrained"));
        }
        if (config.Global.PretrainedModel is { } global) requests.Add(new WeightRequest(global, "Global.pretrained_model", built.Module, built.Preset));
        return requests;
    }

    /// <summary>
    /// Loads every part's weights (a sub-model's classifier of another class count is skipped; the
    /// rest must fit), then the model-level ones with <paramref name="policy"/> and `Global.strict_load`
    /// (<paramref name="missingPretrained"/>: see <see cref="ModelLevel"/>).
    /// Returns the files read by the model-level requests.
    /// </summary>
    public static IReadOnlyList<string> Load(BuiltModel built, PpclsConfig config, ClassifierPolicy policy, Action<string> info, Action<string> warn, Action<string>? missingPretrained = null)
    {
        foreach (var part in built.PartWeights)
            WeightLoader.Load(part, ClassifierPolicy.SkipWhenShapeDiffers, strict: true, info, warn);
        return ModelLevel(built, config, missingPretrained).Select(request => WeightLoader.Load(request, policy, config.Global.StrictLoad, info, warn).File).ToList();
    }

    /// <summary>
    /// Eval, infer and export: the trained weights, which must fit the model, classifier included (a
    /// checkpoint trained for another class count is an error naming both counts).
    /// </summary>
    public static string LoadTrained(BuiltModel built, PpclsConfig config, Action<string> info, Action<string> warn)
    {
        if (ModelLevel(built, config).Count == 0)
            throw new PpclsUserException("Global.pretrained_model: not set; pass -o Global.pretrained_model=output/<Arch.name>/best_model (the trained weights)");
        return Load(built, config, ClassifierPolicy.MustFit, info, warn)[^1];
    }
}
