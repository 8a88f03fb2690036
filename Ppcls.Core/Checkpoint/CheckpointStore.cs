using Ppcls.Core.IO;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint;

/// <summary>A checkpoint read back: its weights, the EMA weights if any, the state, and the optimizer state file.</summary>
public sealed record LoadedCheckpoint(
    string Prefix,
    Dictionary<string, Tensor> Weights,
    Dictionary<string, Tensor>? EmaWeights,
    TrainingState State,
    string? OptimizerStatePath);

/// <summary>
/// PaddleClas's checkpoint names (`latest`, `best_model`, `epoch_N` in
/// `&lt;output_dir&gt;/&lt;Arch.name&gt;/`), each a set of files sharing a prefix:
/// `.safetensors` (weights), `.ema.safetensors`, `.optim` (optimizer state, TorchSharp's
/// format) and `.state.json`. Every file is written through a temporary file and renamed; the
/// state file goes last and names the step the weights were saved at, so a set torn by a crash
/// is detected on load instead of resumed wrongly.
/// </summary>
public static class CheckpointStore
{
    const string StepKey = "ppcls_global_step";
    // NaN is a value an eval loss can take; the state file must still be written and read.
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static string WeightsPath(string prefix) => prefix + ".safetensors";
    public static string EmaPath(string prefix) => prefix + ".ema.safetensors";
    public static string OptimizerPath(string prefix) => prefix + ".optim";
    public static string StatePath(string prefix) => prefix + ".state.json";
    /// <summary>The model's weights for PaddleClas (`Global.save_format: pdparams`); never read on resume.</summary>
    public static string PdparamsPath(string prefix) => prefix + ".pdparams";
    /// <summary>The EMA weights for PaddleClas, next to `.pdparams` as PaddleClas's model saver writes them; never read on resume.</summary>
    public static string EmaPdparamsPath(string prefix) => prefix + ".ema.pdparams";

    /// <param name="pdparams">Also write the model's weights as `&lt;prefix&gt;.pdparams` (and the EMA's as `.ema.pdparams`); when false stale ones are removed, so the prefix always resolves to these weights.</param>
    public static void Save(string prefix, nn.Module model, OptimizerHelper? optimizer, nn.Module? ema, TrainingState state, bool pdparams = false)
    {
        var metadata = new Dictionary<string, string>
        {
            [StepKey] = state.GlobalStep.ToString(CultureInfo.InvariantCulture),
            ["arch"] = state.ArchName,
            ["format"] = "pt",
        };
        var weights = WeightLoader.StateDict(model);
        var emaWeights = ema is null ? null : WeightLoader.StateDict(ema);
        var isLinear = PaddleLayout.LinearWeightsOf(model); // the EMA twin has the same architecture
        SafeTensorsFile.Write(WeightsPath(prefix), weights, metadata);
        WriteOrRemove(PdparamsPath(prefix), pdparams, path => WeightFile.Write(path, weights, isLinear, "Global.save_format"));
        WriteOrRemove(EmaPath(prefix), emaWeights is not null, path => SafeTensorsFile.Write(path, emaWeights!, metadata));
        WriteOrRemove(EmaPdparamsPath(prefix), pdparams && emaWeights is not null, path => WeightFile.Write(path, emaWeights!, isLinear, "Global.save_format"));
        if (optimizer is not null)
            AtomicFile.Write(OptimizerPath(prefix), stream =>
            {
                using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                OptimizerStateFile.Save(optimizer, writer);
            });
        AtomicFile.Write(StatePath(prefix), stream => JsonSerializer.Serialize(stream, state, Json));
    }

    /// <summary>Writes the file when this save has it, else removes a stale one, so the prefix never mixes two saves.</summary>
    static void WriteOrRemove(string path, bool wanted, Action<string> write)
    {
        if (wanted) write(path);
        else if (File.Exists(path)) File.Delete(path);
    }

    /// <summary>Loads the checkpoint at <paramref name="prefix"/> (without extension); <paramref name="keyPath"/> names the config key for errors.</summary>
    public static LoadedCheckpoint Load(string prefix, string keyPath)
    {
        prefix = StripExtension(prefix);
        if (!File.Exists(StatePath(prefix)) || !File.Exists(WeightsPath(prefix)))
            throw new PpclsUserException(
                $"{keyPath}: no checkpoint at '{prefix}' (expected {WeightsPath(prefix)} and {StatePath(prefix)}); " +
                "point it to <output_dir>/<Arch.name>/latest, best_model or epoch_N");
        TrainingState state;
        try
        {
            using var stream = File.OpenRead(StatePath(prefix));
            state = JsonSerializer.Deserialize<TrainingState>(stream, Json) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new PpclsUserException($"{StatePath(prefix)}: unreadable checkpoint state ({e.Message}); use another checkpoint");
        }
        var (weights, metadata) = SafeTensorsFile.Read(WeightsPath(prefix));
        string step = state.GlobalStep.ToString(CultureInfo.InvariantCulture);
        if (metadata.GetValueOrDefault(StepKey) != step)
            throw new PpclsUserException(
                $"{prefix}: the weights (step {metadata.GetValueOrDefault(StepKey, "?")}) and the state (step {step}) do not belong together, " +
                "probably a crash while saving; resume from best_model or an epoch_N checkpoint instead");
        var ema = File.Exists(EmaPath(prefix)) ? SafeTensorsFile.Read(EmaPath(prefix)).Tensors : null;
        return new LoadedCheckpoint(prefix, weights, ema, state, File.Exists(OptimizerPath(prefix)) ? OptimizerPath(prefix) : null);
    }

    /// <summary>Removes a checkpoint's files (used to keep only the latest epoch_N files where asked).</summary>
    public static void Delete(string prefix)
    {
        foreach (var path in new[] { WeightsPath(prefix), EmaPath(prefix), OptimizerPath(prefix), StatePath(prefix), PdparamsPath(prefix), EmaPdparamsPath(prefix) })
            if (File.Exists(path)) File.Delete(path);
    }

    static string StripExtension(string prefix)
    {
        foreach (var ext in new[] { ".state.json", ".ema.safetensors", ".safetensors", ".optim", ".ema.pdparams", ".pdparams" })
            if (prefix.EndsWith(ext, StringComparison.Ordinal)) return prefix[..^ext.Length];
        return prefix;
    }
}
