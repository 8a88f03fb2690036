using Ppcls.Core.Models;

namespace Ppcls.Core.Checkpoint;

/// <summary>
/// The local folder of pretrained weights by PaddleClas's published names (`PPLCNet_x1_0_pretrained.pdparams`,
/// `PPHGNetV2_B4_ssld_pretrained.pdparams`; a `.safetensors` or `.pth` of the same stem too): `PPCLS_HOME`, else
/// `~/.ppcls/weights`. `Arch.pretrained: True` (with `use_ssld: True` for the SSLD file) and `ppcls predict --model`
/// read it; Ppcls downloads nothing, so a missing file is one line naming the file, this folder and where
/// PaddleClas publishes it.
/// </summary>
public static class PretrainedStore
{
    public const string HomeVariable = "PPCLS_HOME";

    /// <summary>The folder the weights are looked up in.</summary>
    public static string Home =>
        Environment.GetEnvironmentVariable(HomeVariable) is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ppcls", "weights");

    /// <summary>The published file name without extension, as PaddleClas's `use_ssld` turns `_pretrained` into `_ssld_pretrained`.</summary>
    public static string Stem(string modelName, ModelPreset preset, bool useSsld) =>
        modelName + (useSsld || preset.PublishedSsld ? "_ssld" : "") + "_pretrained";

    /// <summary>PaddleClas's download address of the file, null where it publishes none for the model.</summary>
    public static string? PublishedUrl(string modelName, ModelPreset preset, bool useSsld) =>
        preset.PublishedFolder is { } folder ? folder + Stem(modelName, preset, useSsld) + ".pdparams" : null;

    /// <summary>The file in <see cref="Home"/> for the model (any of the readable extensions), or null.</summary>
    public static string? Find(string modelName, ModelPreset preset, bool useSsld)
    {
        string stem = Path.Combine(Home, Stem(modelName, preset, useSsld));
        return WeightFile.Extensions.Select(ext => stem + ext).FirstOrDefault(File.Exists);
    }

    /// <summary>The one line that says which file to put where (and where PaddleClas publishes it).</summary>
    public static string MissingMessage(string modelName, ModelPreset preset, bool useSsld, string keyPath)
    {
        string file = Stem(modelName, preset, useSsld) + ".pdparams";
        string source = PublishedUrl(modelName, preset, useSsld) is { } url
            ? $"PaddleClas publishes it at {url}"
            : $"PaddleClas publishes no ImageNet weights for {modelName}, so convert your own with 'ppcls weights convert'";
        return $"{keyPath}: {file} not found in {Home} (set {HomeVariable} to use another folder); Ppcls downloads nothing: {source}; put the file there";
    }

    /// <summary>The model's file in <see cref="Home"/>; a missing one is a <see cref="PpclsUserException"/> with <see cref="MissingMessage"/>.</summary>
    public static string Require(string modelName, ModelPreset preset, bool useSsld, string keyPath) =>
        Find(modelName, preset, useSsld) ?? throw new PpclsUserException(MissingMessage(modelName, preset, useSsld, keyPath));
}
