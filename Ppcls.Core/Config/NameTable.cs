using System.Diagnostics.CodeAnalysis;

namespace Ppcls.Core.Config;

/// <summary>
/// name -> entry for one kind of thing a config names: model, loss, metric, learning-rate
/// schedule, optimizer, data set, transform op, batch op. Every registry is one of these, so
/// each kind lists its names once and an unknown name always reads the same way.
/// </summary>
/// <param name="kind">What the names are, for messages ("loss", "transform op").</param>
/// <param name="listCommand">
/// Where a long table is listed (`ppcls models list`): the message points there instead of
/// spelling out every name.
/// </param>
public sealed class NameTable<T>(string kind, string? listCommand = null)
{
    readonly SortedDictionary<string, T> _entries = new(StringComparer.Ordinal);

    public string Kind { get; } = kind;

    /// <summary>Every registered name, in ordinal order.</summary>
    public IReadOnlyCollection<string> Names => _entries.Keys;

    /// <summary>The entries in the order of <see cref="Names"/>.</summary>
    public IReadOnlyCollection<T> Entries => _entries.Values;

    /// <summary>Adds <paramref name="name"/>; a second entry under the same name is a programming error.</summary>
    public void Register(string name, T entry)
    {
        if (!_entries.TryAdd(name, entry))
            throw new InvalidOperationException($"{Kind} {name} is registered twice");
    }

    public bool TryGet(string name, [MaybeNullWhen(false)] out T entry) => _entries.TryGetValue(name, out entry);

    /// <summary>The entry for <paramref name="name"/>, or a <see cref="ConfigException"/> at <paramref name="keyPath"/> that suggests the closest name.</summary>
    /// <param name="alsoValid">Names another table accepts at the same key (a model's composites); suggested and listed too.</param>
    public T Get(string name, string keyPath, SourceLocation? where = null, IReadOnlyCollection<string>? alsoValid = null)
    {
        if (_entries.TryGetValue(name, out var entry)) return entry;
        alsoValid ??= [];
        string hint = KeySuggester.Hint(name, Names.Concat(alsoValid));
        string listing = listCommand is null ? $"use one of: {string.Join(", ", Names)}" : $"run '{listCommand}' for all {Names.Count} names";
        string also = alsoValid.Count == 0 ? "" : $" (also: {string.Join(", ", alsoValid)})";
        throw ConfigException.At(keyPath, where, $"unknown {Kind} '{name}'; {hint}{listing}{also}");
    }
}
