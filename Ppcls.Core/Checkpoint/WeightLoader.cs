using Ppcls.Core.Models;
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

/// <summary>
/// The one place weights meet a model (as timm's load_pretrained): resolves the path with or
/// without extension, loads by PaddleClas state-dict name, drops the classifier when its
/// shape differs (fine-tuning to another class_num) with a warning, and reports missing,
/// unexpected and mismatched keys together.
/// </summary>
public static class WeightLoader
{
    /// <summary>The existing file for <paramref name="path"/>, trying the known extensions as PaddleClas does.</summary>
    public static string Resolve(string path, string keyPath)
    {
        if (File.Exists(path)) return path;
        foreach (var ext in WeightFile.Extensions)
            if (File.Exists(path + ext)) return path + ext;
        throw new PpclsUserException(
            $"{keyPath}: no weights at '{path}' (also tried {string.Join(", ", WeightFile.Extensions.Select(e => path + e))}); check the path");
    }

    /// <summary>
    /// Resolves <paramref name="path"/>, reads it in any supported format and loads it as
    /// <see cref="Load"/> does, logging the skipped classifier and (not strict) the problems.
    /// </summary>
    public static (string File, WeightLoadReport Report) LoadFile(nn.Module model, string path, string keyPath, ModelPreset preset,
        bool strict, Action<string> warn)
    {
        string file = Resolve(path, keyPath);
        var weights = WeightFile.Read(file, preset.TimmKeyMap);
        try
        {
            var report = Load(model, weights, preset.ClassifierKey, strict, file);
            if (report.SkippedClassifier.Count > 0)
                warn($"{file}: classifier keys skipped (class_num differs, fine-tuning): {string.Join(", ", report.SkippedClassifier)}");
            if (!report.Clean) warn($"{file}: loaded anyway (Global.strict_load=false): {Describe(report)}");
            return (file, report);
        }
        finally
        {
            foreach (var tensor in weights.Values) tensor.Dispose();
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
                destination.copy_(value.to(destination.dtype));
                loaded++;
            }
        }
        var missing = target.Keys.Where(k => !weights.ContainsKey(k) && !skipped.Contains(k)).Order(StringComparer.Ordinal).ToList();
        var unexpected = weights.Keys.Where(k => !target.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
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
