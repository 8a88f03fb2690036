namespace Ppcls.Inference;

/// <summary>
/// One image's top-k classes, as PaddleClas's Topk post-process returns them: ids by falling
/// probability, their scores rounded to 5 decimals, the file, and the label names (empty
/// without a label map).
/// </summary>
public sealed record ClassResult(IReadOnlyList<int> ClassIds, IReadOnlyList<double> Scores, string FileName, IReadOnlyList<string> LabelNames) : IPredictionResult
{
    /// <summary>Python's repr of PaddleClas's result dict: `{'class_ids': [...], 'scores': [...], 'file_name': '...', 'label_names': [...]}`.</summary>
    public string ToPythonRepr() =>
        $"{{'class_ids': {PythonRepr.Ints(ClassIds)}, 'scores': {PythonRepr.Floats(Scores)}, " +
        $"'file_name': {PythonRepr.String(FileName)}, 'label_names': {PythonRepr.Strings(LabelNames)}}}";

    /// <summary>
    /// The line PaddleClas's quick predictor (`paddleclas --model_name=...`) prints for the image:
    /// `class_ids: [...], scores: [...], label_names: [...], filename: PATH`.
    /// </summary>
    public string ToQuickPredictLine() =>
        $"class_ids: {PythonRepr.Ints(ClassIds)}, scores: {PythonRepr.Floats(Scores)}, label_names: {PythonRepr.Strings(LabelNames)}, filename: {FileName}";

    /// <summary>The deploy predictor's line (<see cref="ClassScores.PredictLine"/>).</summary>
    public string ToPredictLine() => ClassScores.PredictLine(FileName, ClassIds, Scores, LabelNames);
}
