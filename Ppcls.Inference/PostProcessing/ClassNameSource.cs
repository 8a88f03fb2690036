namespace Ppcls.Inference;

/// <summary>
/// Where a post-process takes its class names from, as PaddleClas's configs give them: the list
/// itself (`label_list`, as `inference.yml` holds it), else a map file (`class_id_map_file`, `id name`
/// lines split at `delimiter`), else none. <paramref name="KeyPath"/> is the post-process's key.
/// </summary>
public sealed record ClassNameSource(string? ClassIdMapFile, string Delimiter, IReadOnlyList<string>? LabelList, string KeyPath)
{
    public static ClassNameSource None(string keyPath) => new(null, " ", null, keyPath);

    /// <summary>The names by class id; null without a list or map.</summary>
    public IReadOnlyList<string>? Read() =>
        LabelList ?? (ClassIdMapFile is null ? null : TopkPostProcess.ReadLabelMap(ClassIdMapFile, $"{KeyPath}.class_id_map_file", Delimiter));

    /// <summary>How messages name the names' origin: `KEY.label_list` or `KEY.class_id_map_file (FILE)`.</summary>
    public string Describe() => LabelList is not null ? $"{KeyPath}.label_list" : $"{KeyPath}.class_id_map_file ({ClassIdMapFile})";
}
