namespace Ppcls.Inference;

/// <summary>
/// The result of ThreshOutput and MultiLabelThreshOutput, whose dict PaddleClas builds in the
/// order class_ids, scores, label_names, file_name. ThreshOutput's scores stay float32 (numpy
/// prints their shortest float32 form); MultiLabelThreshOutput's are rounded to 5 decimals.
/// </summary>
public sealed record ThresholdResult(IReadOnlyList<int> ClassIds, IReadOnlyList<double> Scores, IReadOnlyList<string> LabelNames, string FileName, bool Rounded)
    : IPredictionResult
{
    public string ToPythonRepr() =>
        $"{{'class_ids': {PythonRepr.Ints(ClassIds)}, " +
        $"'scores': {(Rounded ? PythonRepr.Floats(Scores) : PythonRepr.List(Scores, s => PythonRepr.Float32((float)s)))}, " +
        $"'label_names': {PythonRepr.Strings(LabelNames)}, 'file_name': {PythonRepr.String(FileName)}}}";

    public string ToPredictLine() => ClassScores.PredictLine(FileName, ClassIds, Scores, LabelNames);
}
