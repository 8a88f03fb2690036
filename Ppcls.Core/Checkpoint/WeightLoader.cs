using Ppcls.Core.Models;
using Ppcls.Core.Quantization;
using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint;

/// <summary>What loading weights by name found: loaded, skipped classifier, and the problems.</summary>
public sealed record WeightLoadReport(
    int Loaded,
    IReadOnlyList<string> SkippedClassifier,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> ShapeMismatch)
{
    public bool Clean => Missing.Count == 0 && Unexpected.Count == 0 && ShapeMismatch.Count == 0;
}

/// <summary>What to do with a classifier whose shape differs from the file's.</summary>
public enum ClassifierPolicy
{
    /// <summary>Fine-tuning (train): skip it with a warning, it keeps its fresh initialisation.</summary>
    SkipWhenShapeDiffers,
    /// <summary>Trained weights (eval, infer, export): an error naming both class counts.</summary>
    MustFit,
}

/// <summary>
/// A weights file a config key names, and the model or part of a model it goes into.
/// <paramref name="KeyPrefix"/> is the part's name inside a whole-model file (DistillationModel's
/// `Teacher`, RecModel's `backbone`): a file with keys under that prefix gives those, any other file all its keys.
/// </summary>
public sealed record WeightRequest(string Path, string KeyPath, nn.Module Target, ModelPreset Preset, string? KeyPrefix = null);

/// <summary>
/// The one place weights meet a model (as timm's load_pretrained): resolves the path with or
/// without extension, reads any supported format in the target's layout, loads by PaddleClas
/// state-dict name, applies the classifier policy, and reports missing, unexpected and
/// mismatched keys together. Train, eval, infer, export and distillation sub-models all load here.
/// </summary>
public static class WeightLoader
{
    /// <summary>The existing file for <paramref name="path"/>, trying the known extensions as PaddleClas does.</summary>
    public static string Resolve(string path, string keyPath)
    {
        if (File.Exists(path)) return path;
        if (path.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || path.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            throw new PpclsUserException(
                $"{keyPath}: '{path}' is a URL; Ppcls does not download weights, so download the file and set {keyPath} to its local path");
        foreach (var ext in WeightFile.Extensions)
            if (File.Exists(path + ext)) return path + ext;
        throw new PpclsUserException(
            $"{keyPath}: no weights at '{path}' (also tried {string.Join(", ", WeightFile.Extensions.Select(e => path + e))}); check the path");
    }

    /// <summary>
    /// Resolves and reads the request's file and loads it into its target as <see cref="Load(nn.Module, IReadOnlyDictionary{string, Tensor}, string?, bool, string)"/>
    /// does; <paramref name="policy"/> decides about a classifier of another shape, and with
    /// <paramref name="strict"/> false the other problems are a warning. Returns the file read and what loading found.
    /// </summary>
    public static (string File, WeightLoadReport Report) Load(WeightRequest request, ClassifierPolicy policy, bool strict, Action<string> info, Action<string> warn)
    {
        string file = Resolve(request.Path, request.KeyPath);
        string? prefix = request.KeyPrefix is null ? null : request.KeyPrefix + ".";
        var linear = PaddleLayout.LinearWeights(request.Target);
        var layout = new WeightLayout(request.Preset.TimmKeyMap,
            (name, _) => linear.Contains(prefix is not null && name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name));
        var all = WeightFile.Read(file, layout);
        try
        {
            var weights = prefix is not null && all.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal))
                ? all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal)
                : all;
            string classifierKey = request.Preset.ClassifierKey;
            var report = Load(request.Target, weights, classifierKey, strict, file);
            if (report.SkippedClassifier.Count > 0)
            {
                if (policy == ClassifierPolicy.MustFit)
                {
                    long trained = weights.TryGetValue(classifierKey, out var head) ? head.shape[0] : -1;
                    long built = StateDict(request.Target).TryGetValue(classifierKey, out var own) ? own.shape[0] : -1;
                    throw new PpclsUserException(
                        $"{file}: the weights were trained for {trained} classes ({classifierKey} has {trained} rows) but Arch.class_num is {built}; pass -o Arch.class_num={trained}");
                }
                warn($"{file}: classifier keys skipped (class_num differs, fine-tuning): {string.Join(", ", report.SkippedClassifier)}");
            }
            if (!report.Clean) warn($"{file}: loaded anyway (Global.strict_load=false): {Describe(report)}");
            info($"{request.KeyPath}: loaded {report.Loaded} tensors from {file}");
            return (file, report);
        }
        finally
        {
            foreach (var tensor in all.Values) tensor.Dispose();
        }
    }

    /// <summary>The model's parameters and buffers by name (the state dict), as stored tensors.</summary>
    public static Dictionary<string, Tensor> StateDict(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>
    /// Copies <paramref name="weights"/> into <paramref name="model"/>. Classifier keys (prefix of
    /// <paramref name="classifierKey"/>) whose shapes differ are skipped; with <paramref name="strict"/>
    /// any other problem is a <see cref="PpclsUserException"/> listing every key at fault.
    /// </summary>
    public static WeightLoadReport Load(nn.Module model, IReadOnlyDictionary<string, Tensor> weights, string? classifierKey,
        bool strict, string source)
    {
        var target = StateDict(model);
        string? classifierPrefix = classifierKey is null ? null : classifierKey[..(classifierKey.LastIndexOf('.') + 1)];
        var skipped = new List<string>();
        var mismatch = new List<string>();
        int loaded = 0;
        using (no_grad())
        {
            foreach (var (name, value) in weights)
            {
                if (!target.TryGetValue(name, out var destination)) continue;
                if (!destination.shape.SequenceEqual(value.shape))
                {
                    if (classifierPrefix is not null && name.StartsWith(classifierPrefix, StringComparison.Ordinal)) skipped.Add(name);
                    else mismatch.Add($"{name} (file [{string.Join(",", value.shape)}], model [{string.Join(",", destination.shape)}])");
                    continue;
                }
                destination.copy_(value); // copy_ converts the dtype without an intermediate tensor
                loaded++;
            }
        }
        // Float weights (no quantizer state) into a quantization-aware model: its quantizers keep their initial state, as in PaddleClas.
        bool floatIntoQuantized = !weights.Keys.Any(QuantAware.IsStateKey);
        var missing = target.Keys.Where(k => !weights.ContainsKey(k) && !skipped.Contains(k) && !(floatIntoQuantized && QuantAware.IsStateKey(k)))
            .Order(StringComparer.Ordinal).ToList();
        // A file's copy of a buffer the model derives itself (IDerivedBuffers: Swin's relative_position_index, which
        // PaddleClas's .pdparams keep) is neither loaded nor unexpected.
        var derived = model.named_modules().Where(m => m.module is IDerivedBuffers)
            .SelectMany(m => ((IDerivedBuffers)m.module).DerivedBufferNames.Select(n => m.name.Length == 0 ? n : m.name + "." + n))
            .ToHashSet(StringComparer.Ordinal);
        var unexpected = weights.Keys.Where(k => !target.ContainsKey(k) && !derived.Contains(k)).Order(StringComparer.Ordinal).ToList();
        var report = new WeightLoadReport(loaded, skipped.Order(StringComparer.Ordinal).ToList(), missing, unexpected, mismatch);
        if (strict && !report.Clean)
            throw new PpclsUserException($"{source}: the weights do not fit the model: " + Describe(report) +
                "; check Arch.name / Arch options, or load anyway with -o Global.strict_load=false");
        return report;
    }

    public static string Describe(WeightLoadReport r)
    {
        var parts = new List<string>();
        if (r.Missing.Count > 0) parts.Add($"missing {r.Missing.Count} key(s): {List(r.Missing)}");
        if (r.Unexpected.Count > 0) parts.Add($"unexpected {r.Unexpected.Count} key(s): {List(r.Unexpected)}");
        if (r.ShapeMismatch.Count > 0) parts.Add($"shape mismatch in {r.ShapeMismatch.Count} key(s): {List(r.ShapeMismatch)}");
        return string.Join("; ", parts);
    }

    static string List(IReadOnlyList<string> keys) =>
        string.Join(", ", keys.Take(10)) + (keys.Count > 10 ? $", ... ({keys.Count - 10} more)" : "");
}
