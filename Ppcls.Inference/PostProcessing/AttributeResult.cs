namespace Ppcls.Inference;

/// <summary>Which attribute post-process made an <see cref="AttributeResult"/>: PaddleClas's `infer` prints each with its own keys.</summary>
public enum AttributeStyle
{
    /// <summary>`{'attributes': [...], 'output': [...]}` (no file name).</summary>
    Person,
    /// <summary>`{'attr': '...', 'pred': [...], 'file_name': '...'}`: one sentence.</summary>
    Vehicle,
    /// <summary>`{'attributes': [...], 'output': [...], 'file_name': '...'}`.</summary>
    Table,
}

/// <summary>
/// An attribute model's result: the readable attributes (a list, or for vehicles one sentence)
/// and the 0/1 output vector (score above its threshold). The deploy predictor prints
/// `name:\t {'attributes': ..., 'output': [...]}` for every style.
/// </summary>
public sealed record AttributeResult(IReadOnlyList<string> Attributes, IReadOnlyList<int> Output, string FileName, AttributeStyle Style) : IPredictionResult
{
    string AttributesRepr => Style == AttributeStyle.Vehicle ? PythonRepr.String(Attributes[0]) : PythonRepr.Strings(Attributes);

    public string ToPythonRepr() => Style switch
    {
        AttributeStyle.Person => $"{{'attributes': {AttributesRepr}, 'output': {PythonRepr.Ints(Output)}}}",
        AttributeStyle.Vehicle => $"{{'attr': {AttributesRepr}, 'pred': {PythonRepr.Ints(Output)}, 'file_name': {PythonRepr.String(FileName)}}}",
        _ => $"{{'attributes': {AttributesRepr}, 'output': {PythonRepr.Ints(Output)}, 'file_name': {PythonRepr.String(FileName)}}}",
    };

    public string ToPredictLine() => $"{Path.GetFileName(FileName)}:\t {{'attributes': {AttributesRepr}, 'output': {PythonRepr.Ints(Output)}}}";

    /// <summary>1 where the score is strictly above its threshold, else 0 (numpy's `(res > thresholds).astype(int8)`).</summary>
    public static int[] Above(ReadOnlySpan<float> scores, Func<int, double> threshold)
    {
        var output = new int[scores.Length];
        for (int i = 0; i < scores.Length; i++) output[i] = scores[i] > threshold(i) ? 1 : 0;
        return output;
    }

    /// <summary>numpy's argmax of scores[from..to): the first largest.</summary>
    public static int ArgMax(ReadOnlySpan<float> scores, int from, int to)
    {
        int best = from;
        for (int i = from + 1; i < to; i++)
            if (scores[i] > scores[best]) best = i;
        return best - from;
    }

    /// <summary>Fails unless the model predicts exactly the attributes the post-process reads.</summary>
    public static void CheckCount(string name, int expected, int classes, string fix)
    {
        if (classes != expected)
            throw new UserInputException($"{name}: reads {expected} attribute scores but the model predicts {classes}; train it with Arch.class_num: {expected} or use another post-process ({fix})");
    }
}
