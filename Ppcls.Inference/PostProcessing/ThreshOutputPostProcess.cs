namespace Ppcls.Inference;

/// <summary>
/// PaddleClas's `ThreshOutput` (PULC's binary models: person_exists, safety_helmet, ...) over
/// softmax probabilities. With two classes: class 1 when its probability reaches `threshold`
/// (score p1, name `label_1`), else class 0 (score 1 - p1 in float32, name `label_0`). With more
/// classes (the deploy predictor's form): the top class when its probability exceeds `threshold`,
/// else `default_label_index`, its probability as score and its name from the class names.
/// </summary>
public sealed class ThreshOutputPostProcess : IPostProcess
{
    readonly IReadOnlyList<string>? _labels;
    readonly string _labelSource;

    public ThreshOutputPostProcess(double threshold, int defaultLabelIndex, string label0, string label1, IReadOnlyList<string>? labels, string labelSource)
    {
        Threshold = threshold;
        DefaultLabelIndex = defaultLabelIndex;
        Label0 = label0;
        Label1 = label1;
        _labels = labels;
        _labelSource = labelSource;
    }

    public string Name => "ThreshOutput";
    public OutputActivation Activation => OutputActivation.Softmax;
    public double Threshold { get; }
    public int DefaultLabelIndex { get; }
    public string Label0 { get; }
    public string Label1 { get; }

    public void CheckClassCount(int classes, string fix)
    {
        if (classes < 2) throw new UserInputException($"ThreshOutput: the model predicts {classes} class; ThreshOutput needs 2 or more; {fix}");
        if (classes > 2 && (DefaultLabelIndex < 0 || DefaultLabelIndex >= classes))
            throw new UserInputException($"ThreshOutput.default_label_index: {DefaultLabelIndex} is not a class of the model (0 .. {classes - 1}); {fix}");
        if (classes > 2) ClassScores.CheckLabels(_labels, _labelSource, classes, fix);
    }

    public IReadOnlyList<KeyValuePair<string, object>> DeployOptions
    {
        get
        {
            var options = new List<KeyValuePair<string, object>>
            {
                new("threshold", Threshold), new("default_label_index", DefaultLabelIndex), new("label_0", Label0), new("label_1", Label1),
            };
            if (_labels is not null) options.Add(new("label_list", _labels));
            return options;
        }
    }

    public IPredictionResult Apply(ReadOnlySpan<float> scores, string fileName)
    {
        if (scores.Length == 2)
        {
            float score = scores[1];
            return score < Threshold
                ? new ThresholdResult([0], [(double)(1f - score)], [Label0], fileName, Rounded: false)
                : new ThresholdResult([1], [(double)score], [Label1], fileName, Rounded: false);
        }
        int top = ClassScores.Descending(scores)[0];
        int id = scores[top] > Threshold ? top : DefaultLabelIndex;
        string name = _labels is not null && id < _labels.Count ? _labels[id] : "";
        return new ThresholdResult([id], [(double)scores[id]], [name], fileName, Rounded: false);
    }
}
