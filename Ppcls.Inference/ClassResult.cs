using System.Globalization;

namespace Ppcls.Inference;

/// <summary>
/// One image's top-k classes, as PaddleClas's Topk post-process returns them: ids by falling
/// probability, their scores rounded to 5 decimals, the file, and the label names (empty
/// without a label map).
/// </summary>
public sealed record ClassResult(IReadOnlyList<int> ClassIds, IReadOnlyList<double> Scores, string FileName, IReadOnlyList<string> LabelNames)
{
    /// <summary>Python's repr of PaddleClas's result dict: `{'class_ids': [...], 'scores': [...], 'file_name': '...', 'label_names': [...]}`.</summary>
    public string ToPythonRepr() =>
        $"{{'class_ids': {PythonRepr.Ints(ClassIds)}, 'scores': {PythonRepr.Floats(Scores)}, " +
        $"'file_name': {PythonRepr.String(FileName)}, 'label_names': {PythonRepr.Strings(LabelNames)}}}";

    /// <summary>A batch's results as PaddleClas's `infer` logs them: one Python list.</summary>
    public static string BatchRepr(IEnumerable<ClassResult> batch) => "[" + string.Join(", ", batch.Select(r => r.ToPythonRepr())) + "]";

    /// <summary>
    /// The deploy predictor's line: `name:\tclass id(s): [...], score(s): [...], label_name(s): [...]`.
    /// Scores keep 5 decimals (PaddleClas's predictor prints 2), so a result compares with `infer`'s.
    /// </summary>
    public string ToPredictLine() =>
        $"{Path.GetFileName(FileName)}:\tclass id(s): {PythonRepr.Ints(ClassIds)}, " +
        $"score(s): [{string.Join(", ", Scores.Select(s => s.ToString("F5", CultureInfo.InvariantCulture)))}], " +
        $"label_name(s): {PythonRepr.Strings(LabelNames)}";
}
