using Ppcls.Core.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>name -> model factory. Filled by Ppcls.Models through one explicit call; an unknown name lists the valid ones.</summary>
public sealed class ModelRegistry
{
    /// <summary>
    /// Replaces a built model's classifier by the ML-Decoder head (Arch.use_ml_decoder) from the
    /// `MLDecoder` section (<paramref name="section"/>, empty where absent); set by Ppcls.Models.
    /// </summary>
    public delegate void MlDecoderAttach(nn.Module<Tensor, Tensor> model, ConfigSection section, ArchConfigView arch);

    /// <summary>What the ML-Decoder needs from Arch: the model name (for messages), class_num, and the key of use_ml_decoder.</summary>
    public sealed record ArchConfigView(string Name, int ClassNum, string UseKeyPath);

    /// <summary>The ML-Decoder attachment, registered with the families (null: none registered).</summary>
    public MlDecoderAttach? MlDecoder { get; set; }

    readonly NameTable<ModelEntry> _models = new("model", listCommand: "ppcls models list");
    // Composites build their parts from _models, so they are kept apart: a part cannot be one.
    readonly NameTable<CompositeModelEntry> _composites = new("model");

    /// <summary>The zoo, by family then name (what `ppcls models list` prints).</summary>
    public IEnumerable<ModelEntry> Entries => _models.Entries.OrderBy(e => e.Family, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal);

    /// <summary>The zoo's names, in ordinal order.</summary>
    public IReadOnlyCollection<string> Names => _models.Names;

    public void Register(ModelEntry entry)
    {
        if (_composites.TryGet(entry.Name, out _)) throw new InvalidOperationException($"model {entry.Name} is registered twice");
        _models.Register(entry.Name, entry);
    }

    /// <summary>Registers each of a family's variants under its own name, built by <paramref name="create"/> from the Arch section.</summary>
    public void Register<TVariant>(string family, IEnumerable<TVariant> variants, Func<TVariant, string> name, Func<TVariant, ModelPreset> preset,
        Func<TVariant, ConfigSection, nn.Module<Tensor, Tensor>> create)
    {
        foreach (var variant in variants)
            Register(new ModelEntry(name(variant), family, preset(variant), section => create(variant, section)));
    }

    /// <summary>An architecture built from registered models; not part of the zoo's <see cref="Entries"/>.</summary>
    public void Register(CompositeModelEntry entry)
    {
        if (_models.TryGet(entry.Name, out _)) throw new InvalidOperationException($"model {entry.Name} is registered twice");
        _composites.Register(entry.Name, entry);
    }

    public CompositeModelEntry? Composite(string name) => _composites.TryGet(name, out var entry) ? entry : null;

    /// <summary>The zoo entry for <paramref name="name"/>; <paramref name="keyPath"/> names the config key for the error.</summary>
    public ModelEntry Get(string name, string keyPath = "Arch.name", SourceLocation? where = null) =>
        _models.Get(name, keyPath, where, alsoValid: _composites.Names);
}
