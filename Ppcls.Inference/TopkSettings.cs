namespace Ppcls.Inference;

/// <summary>`PostProcess.Topk` of a deploy config or `inference.yml`: k and the class names (a map file or the list itself).</summary>
public sealed record TopkSettings(int Topk, string? ClassIdMapFile, string Delimiter, IReadOnlyList<string>? LabelList, string KeyPath)
{
    /// <summary>The post-process: names from `label_list`, else from `class_id_map_file`, else none.</summary>
    public TopkPostProcess Build() =>
        new(Topk, LabelList ?? (ClassIdMapFile is null ? null : TopkPostProcess.ReadLabelMap(ClassIdMapFile, $"{KeyPath}.class_id_map_file", Delimiter)));
}
