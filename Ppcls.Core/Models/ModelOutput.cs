using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>
/// What one forward pass produced, by name, as PaddleClas's dict outputs: a single-output
/// model has only its logits (<see cref="LogitsKey"/>); a RecModel adds <c>backbone</c>,
/// <c>neck</c> and <c>features</c>; a DistillationModel names each sub-model's primary output
/// by the sub-model (<c>Student</c>) and its other outputs as <c>Student.features</c>.
/// <see cref="Primary"/> is what eval, metrics without a key, export and infer read.
/// Tensors belong to the caller's dispose scope.
/// </summary>
public sealed class ModelOutput
{
    public const string LogitsKey = "logits";
    readonly Dictionary<string, Tensor> _tensors;

    public ModelOutput(IReadOnlyDictionary<string, Tensor> tensors, string primaryKey)
    {
        if (!tensors.ContainsKey(primaryKey)) throw new ArgumentException($"the primary output '{primaryKey}' is not among the outputs", nameof(primaryKey));
        _tensors = new Dictionary<string, Tensor>(tensors, StringComparer.Ordinal);
        PrimaryKey = primaryKey;
    }

    /// <summary>A single-output model's logits.</summary>
    public static ModelOutput Single(Tensor logits) => new(new Dictionary<string, Tensor> { [LogitsKey] = logits }, LogitsKey);

    /// <summary>
    /// The model's outputs for <paramref name="x"/>: all of them for an <see cref="IMultiOutputModel"/>,
    /// else its logits. <paramref name="labels"/> (training only) reach a model that uses them (a margin head).
    /// </summary>
    public static ModelOutput Run(nn.Module<Tensor, Tensor> model, Tensor x, Tensor? labels = null) =>
        model is IMultiOutputModel multi ? multi.ForwardOutputs(x, labels) : Single(model.call(x));

    public string PrimaryKey { get; }
    public Tensor Primary => _tensors[PrimaryKey];
    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    /// <summary>
    /// The output a loss or metric names: sub-model <paramref name="model"/> (its primary output,
    /// or its <paramref name="key"/> output), or with no model the output <paramref name="key"/>,
    /// or with neither the primary. <paramref name="reader"/> names the config entry for the error.
    /// </summary>
    public Tensor Get(string? model, string? key, string reader)
    {
        string name = (model, key) switch
        {
            (null, null) => PrimaryKey,
            (null, { } k) => k,
            ({ } m, null) => m,
            ({ } m, { } k) => $"{m}.{k}",
        };
        if (_tensors.TryGetValue(name, out var tensor)) return tensor;
        // A sub-model with a single output is its logits: "Student.logits" is "Student".
        if (model is not null && key == LogitsKey && _tensors.TryGetValue(model, out tensor)) return tensor;
        throw new PpclsUserException(
            $"{reader}: the model has no output '{name}'; its outputs are {string.Join(", ", _tensors.Keys.Order(StringComparer.Ordinal))} " +
            "(check model_names / model_name_pairs / model_key against Arch.models, and key against the sub-model's outputs)");
    }

    /// <summary>Whether <see cref="Get"/> finds the output.</summary>
    public bool Has(string? model, string? key) =>
        (model, key) switch
        {
            (null, null) => true,
            (null, { } k) => _tensors.ContainsKey(k),
            ({ } m, null) => _tensors.ContainsKey(m),
            ({ } m, { } k) => _tensors.ContainsKey($"{m}.{k}") || (k == LogitsKey && _tensors.ContainsKey(m)),
        };
}
