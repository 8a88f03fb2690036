namespace Ppcls.Inference;

/// <summary>
/// PaddleClas's `PersonAttribute` (PULC person_attribute, 26 sigmoid scores): gender, age,
/// direction, glasses (`glasses_threshold`), hat, holding objects (`hold_threshold`), bag, upper
/// and lower clothes and boots, every other test against `threshold`, worded as PaddleClas does.
/// </summary>
public sealed class PersonAttributePostProcess(double threshold, double glassesThreshold, double holdThreshold) : IPostProcess
{
    public const int Attributes = 26;
    static readonly string[] Ages = ["AgeLess18", "Age18-60", "AgeOver60"];
    static readonly string[] Directions = ["Front", "Side", "Back"];
    static readonly string[] Bags = ["HandBag", "ShoulderBag", "Backpack"];
    static readonly string[] Uppers = ["UpperStride", "UpperLogo", "UpperPlaid", "UpperSplice"];
    static readonly string[] Lowers = ["LowerStripe", "LowerPattern", "LongCoat", "Trousers", "Shorts", "Skirt&Dress"];

    public string Name => "PersonAttribute";
    public OutputActivation Activation => OutputActivation.Sigmoid;

    public void CheckClassCount(int classes, string fix) => AttributeResult.CheckCount(Name, Attributes, classes, fix);

    public IReadOnlyList<KeyValuePair<string, object>> DeployOptions =>
        [new("threshold", threshold), new("glasses_threshold", glassesThreshold), new("hold_threshold", holdThreshold)];

    public IPredictionResult Apply(ReadOnlySpan<float> s, string fileName)
    {
        var labels = new List<string>
        {
            s[22] > threshold ? "Female" : "Male",
            Ages[AttributeResult.ArgMax(s, 19, 22)],
            Directions[AttributeResult.ArgMax(s, 23, 26)],
            "Glasses: " + (s[1] > glassesThreshold ? "True" : "False"),
            "Hat: " + (s[0] > threshold ? "True" : "False"),
            "HoldObjectsInFront: " + (s[18] > holdThreshold ? "True" : "False"),
        };
        int bag = AttributeResult.ArgMax(s, 15, 18);
        labels.Add(s[15 + bag] > threshold ? Bags[bag] : "No bag");
        string upper = "Upper: " + (s[3] > s[2] ? "LongSleeve" : "ShortSleeve");
        for (int i = 0; i < Uppers.Length; i++)
            if (s[4 + i] > threshold) upper += " " + Uppers[i];
        labels.Add(upper);
        // PaddleClas writes 'Lower: ' and then ' name' per item: two spaces after the colon.
        string lower = "Lower: ";
        for (int i = 0; i < Lowers.Length; i++)
            if (s[8 + i] > threshold) lower += " " + Lowers[i];
        if (lower == "Lower: ") lower += " " + Lowers[AttributeResult.ArgMax(s, 8, 14)];
        labels.Add(lower);
        labels.Add(s[14] > threshold ? "Boots" : "No boots");
        // The 0/1 vector uses 0.5 for every score but glasses and holding (PaddleClas ignores `threshold` here).
        var output = AttributeResult.Above(s, i => i == 1 ? glassesThreshold : i == 18 ? holdThreshold : 0.5);
        return new AttributeResult(labels, output, fileName, AttributeStyle.Person);
    }
}
