namespace Ppcls.Inference;

/// <summary>
/// PaddleClas's `TableAttribute` (PULC table_attribute, 6 sigmoid scores): source, number, colour,
/// clarity, obstruction and angle, each worded by its threshold. As in PaddleClas, the words for
/// obstruction and angle test `number_threshold`, while the 0/1 output uses each one's own threshold.
/// </summary>
public sealed class TableAttributePostProcess(double source, double number, double color, double clarity, double obstruction, double angle) : IPostProcess
{
    public const int Attributes = 6;

    public string Name => "TableAttribute";
    public OutputActivation Activation => OutputActivation.Sigmoid;

    public void CheckClassCount(int classes, string fix) => AttributeResult.CheckCount(Name, Attributes, classes, fix);

    public IReadOnlyList<KeyValuePair<string, object>> DeployOptions =>
    [
        new("source_threshold", source), new("number_threshold", number), new("color_threshold", color),
        new("clarity_threshold", clarity), new("obstruction_threshold", obstruction), new("angle_threshold", angle),
    ];

    public IPredictionResult Apply(ReadOnlySpan<float> s, string fileName)
    {
        string[] labels =
        [
            s[0] > source ? "Scanned" : "Photo",
            s[1] > number ? "Little" : "Numerous",
            s[2] > color ? "Black-and-White" : "Multicolor",
            s[3] > clarity ? "Clear" : "Blurry",
            s[4] > number ? "Without-Obstacles" : "With-Obstacles",
            s[5] > number ? "Horizontal" : "Tilted",
        ];
        double[] thresholds = [source, number, color, clarity, obstruction, angle];
        return new AttributeResult(labels, AttributeResult.Above(s, i => thresholds[i]), fileName, AttributeStyle.Table);
    }
}
