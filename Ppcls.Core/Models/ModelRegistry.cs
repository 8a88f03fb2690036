using Ppcls.Core.Config;

namespace Ppcls.Core.Models;

/// <summary>name -> model factory. Filled by Ppcls.Models through one explicit call; an unknown name lists the valid ones.</summary>
public sealed class ModelRegistry
{
    readonly Dictionary<string, ModelEntry> _entries = new(StringComparer.Ordinal);
    readonly Dictionary<string, CompositeModelEntry> _composites = new(StringComparer.Ordinal);

    public IEnumerable<ModelEntry> Entries => _entries.Values.OrderBy(e => e.Family, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal);
    public IEnumerable<string> Names => Entries.Select(e => e.Name);

    public void Register(ModelEntry entry)
    {
        if (!_entries.TryAdd(entry.Name, entry))
            throw new InvalidOperationException($"model {entry.Name} is registered twice");
    }

    /// <summary>An architecture built from registered models; not part of the zoo's <see cref="Entries"/>.</summary>
    public void Register(CompositeModelEntry entry)
    {
        if (_entries.ContainsKey(entry.Name) || !_composites.TryAdd(entry.Name, entry))
            throw new InvalidOperationException($"model {entry.Name} is registered twice");
    }

    public bool Contains(string name) => _entries.ContainsKey(name) || _composites.ContainsKey(name);

    public CompositeModelEntry? Composite(string name) => _composites.GetValueOrDefault(name);

    /// <summary>The entry for <paramref name="name"/>; <paramref name="keyPath"/> names the config key for the error.</summary>
    public ModelEntry Get(string name, string keyPath = "Arch.name", SourceLocation? where = null) =>
        _entries.TryGetValue(name, out var entry)
            ? entry
            : throw ConfigException.At(keyPath, where,
                $"unknown model '{name}'; {KeySuggester.Hint(name, _entries.Keys.Concat(_composites.Keys))}run 'ppcls models list' for all {_entries.Count} names" +
                (_composites.Count == 0 ? "" : $" (also: {string.Join(", ", _composites.Keys.Order(StringComparer.Ordinal))})"));
}
