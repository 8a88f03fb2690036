using System.Text.Json;
using System.Text.Json.Serialization;
using Ppcls.Core.IO;
using Ppcls.Core.Metric;

namespace Ppcls.Core.Reporting;

/// <summary>One class's line in the eval report.</summary>
/// <param name="Accuracy">The fraction of this class's samples classified correctly (equal to recall).</param>
/// <param name="Support">Samples of this class in the eval set.</param>
public sealed record ClassReport(int Id, string Name, double Precision, double Recall, double Accuracy, long Support);

/// <summary>
/// What `ppcls eval` writes as `eval_report.json`: overall top-1, the eval averages, and per
/// class precision, recall, accuracy and support, with the confusion matrix as rows
/// (row = true class, column = predicted class) and the class names in id order.
/// </summary>
public sealed record EvalReport(
    string Model,
    string Weights,
    long Samples,
    double Top1,
    double MacroPrecision,
    double MacroRecall,
    IReadOnlyDictionary<string, double> Metrics,
    string? ClassNamesSource,
    IReadOnlyList<string> ClassNames,
    IReadOnlyList<ClassReport> Classes,
    long[][] ConfusionMatrix)
{
    public const string FileName = "eval_report.json";

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static EvalReport Create(string model, string weights, ConfusionMatrix confusion, ClassNames names,
        IReadOnlyDictionary<string, double> metrics)
    {
        if (names.Names.Count != confusion.ClassCount)
            throw new ArgumentException($"{names.Names.Count} class names for {confusion.ClassCount} classes", nameof(names));
        var classes = Enumerable.Range(0, confusion.ClassCount)
            .Select(c => new ClassReport(c, names.Names[c], confusion.Precision(c), confusion.Recall(c), confusion.Recall(c), confusion.Support(c)))
            .ToArray();
        return new EvalReport(model, weights, confusion.Total, confusion.Accuracy,
            classes.Average(c => c.Precision), classes.Average(c => c.Recall),
            new SortedDictionary<string, double>(metrics.ToDictionary(), StringComparer.Ordinal),
            names.Source, names.Names, classes, confusion.Rows());
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Writes the report through a temporary file and a rename.</summary>
    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");
}
