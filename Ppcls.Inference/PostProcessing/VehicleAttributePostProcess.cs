namespace Ppcls.Inference;

/// <summary>
/// PaddleClas's `VehicleAttribute` (PULC vehicle_attribute, 10 colour then 9 type sigmoid scores):
/// the most likely colour and type when their score reaches `color_threshold` / `type_threshold`
/// (the score printed as Python prints the float), else "unknown", in one sentence.
/// </summary>
public sealed class VehicleAttributePostProcess(double colorThreshold, double typeThreshold) : IPostProcess
{
    public const int Attributes = 19;
    static readonly string[] Colors = ["yellow", "orange", "green", "gray", "red", "blue", "white", "golden", "brown", "black"];
    static readonly string[] Types = ["sedan", "suv", "van", "hatchback", "mpv", "pickup", "bus", "truck", "estate"];

    public string Name => "VehicleAttribute";
    public OutputActivation Activation => OutputActivation.Sigmoid;

    public void CheckClassCount(int classes, string fix) => AttributeResult.CheckCount(Name, Attributes, classes, fix);

    public IReadOnlyList<KeyValuePair<string, object>> DeployOptions => [new("color_threshold", colorThreshold), new("type_threshold", typeThreshold)];

    public IPredictionResult Apply(ReadOnlySpan<float> s, string fileName)
    {
        int color = AttributeResult.ArgMax(s, 0, 10);
        int type = AttributeResult.ArgMax(s, 10, 19);
        string colorInfo = s[color] >= colorThreshold ? $"Color: ({Colors[color]}, prob: {PythonRepr.Float(s[color])})" : "Color unknown";
        string typeInfo = s[10 + type] >= typeThreshold ? $"Type: ({Types[type]}, prob: {PythonRepr.Float(s[10 + type])})" : "Type unknown";
        var output = AttributeResult.Above(s, i => i < 10 ? colorThreshold : typeThreshold);
        return new AttributeResult([$"{colorInfo}, {typeInfo}"], output, fileName, AttributeStyle.Vehicle);
    }
}
