namespace Ppcls.Inference;

/// <summary>
/// PaddleClas's `MultiLabelThreshOutput` over sigmoid scores: every class whose score reaches
/// `threshold` (default 0.5), in class order, scores rounded to 5 decimals, names from the class
/// names (empty without them).
/// </summary>
public sealed class MultiLabelThreshOutputPostProcess(double threshold, IReadOnlyList<string>? labels, string labelSource) : IPostProcess
{
    public string Name => "MultiLabelThreshOutput";
    public OutputActivation Activation => OutputActivation.Sigmoid;
    public double Threshold => threshold;

    public void CheckClassCount(int classes, string fix) => ClassScores.CheckLabels(labels, labelSource, classes, fix);

    public IReadOnlyList<KeyValuePair<string, object>> DeployOptions =>
        labels is null ? [new("threshold", threshold)] : [new("threshold", threshold), new("label_list", labels)];

    public IPredictionResult Apply(ReadOnlySpan<float> scores, string fileName)
    {
        var ids = new List<int>();
        var values = new List<double>();
        for (int i = 0; i < scores.Length; i++)
        {
            if (scores[i] < threshold) continue;
            ids.Add(i);
            values.Add(ClassScores.Round5(scores[i]));
        }
        string[] names = labels is null ? [] : [.. ids.Select(i => i < labels.Count ? labels[i] : "")];
        return new ThresholdResult(ids, values, names, fileName, Rounded: true);
    }
}
