using System.Globalization;

namespace Ppcls.Inference;

/// <summary>Helpers the class-id post-processes share: descending order as numpy's argsort()[::-1], the label-map check, and the predictor's line.</summary>
public static class ClassScores
{
    /// <summary>Class ids by falling score; ties take the higher index first, as numpy's argsort()[::-1] does.</summary>
    public static int[] Descending(ReadOnlySpan<float> scores)
    {
        var order = new int[scores.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var values = scores.ToArray();
        Array.Sort(order, (a, b) => values[b] != values[a] ? values[b].CompareTo(values[a]) : b.CompareTo(a));
        return order;
    }

    /// <summary>numpy's around(x, 5) on a float32 score.</summary>
    public static double Round5(float score) => Math.Round(score * 1e5, MidpointRounding.ToEven) / 1e5;

    /// <summary>Fails when a label map names fewer classes than the model predicts.</summary>
    public static void CheckLabels(IReadOnlyList<string>? labels, string source, int classes, string fix)
    {
        if (labels is not null && labels.Count < classes)
            throw new UserInputException($"{source}: names {labels.Count} classes but the model predicts {classes}; {fix}");
    }

    /// <summary>
    /// The deploy predictor's line: `name:\tclass id(s): [...], score(s): [...], label_name(s): [...]`.
    /// Scores keep 5 decimals (PaddleClas's predictor prints 2), so a result compares with `infer`'s.
    /// </summary>
    public static string PredictLine(string fileName, IReadOnlyList<int> ids, IReadOnlyList<double> scores, IReadOnlyList<string> names) =>
        $"{Path.GetFileName(fileName)}:\tclass id(s): {PythonRepr.Ints(ids)}, " +
        $"score(s): [{string.Join(", ", scores.Select(s => s.ToString("F5", CultureInfo.InvariantCulture)))}], " +
        $"label_name(s): {PythonRepr.Strings(names)}";
}
