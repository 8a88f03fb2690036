using System.Text.Json;
using Ppcls.Core.Reporting;

namespace Ppcls.Core.Tests.Reporting;

public sealed class EvalReportTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-report-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void The_report_file_holds_per_class_figures_the_matrix_and_the_names()
    {
        var names = new ClassNames(["cat", "dog", "bird"], "/data/label_list.txt");
        var metrics = new Dictionary<string, double> { ["top1"] = 0.7, ["loss"] = 0.9, ["CELoss"] = 0.9 };
        var report = EvalReport.Create("PPLCNet_x0_25", "/w/best_model.safetensors", ConfusionMatrixTests.HandMade(), names, metrics);
        string path = Path.Combine(_dir, "out", EvalReport.FileName);

        report.Write(path);

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        Assert.That(root.GetProperty("model").GetString(), Is.EqualTo("PPLCNet_x0_25"));
        Assert.That(root.GetProperty("samples").GetInt64(), Is.EqualTo(10));
        Assert.That(root.GetProperty("top1").GetDouble(), Is.EqualTo(0.7).Within(1e-12));
        Assert.That(root.GetProperty("macro_precision").GetDouble(), Is.EqualTo((0.75 + 2.0 / 3 + 2.0 / 3) / 3).Within(1e-12));
        Assert.That(root.GetProperty("macro_recall").GetDouble(), Is.EqualTo(0.75).Within(1e-12));
        Assert.That(root.GetProperty("metrics").EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "CELoss", "loss", "top1" }));
        Assert.That(root.GetProperty("class_names_source").GetString(), Is.EqualTo("/data/label_list.txt"));
        Assert.That(root.GetProperty("class_names").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "cat", "dog", "bird" }));
        var dog = root.GetProperty("classes")[1];
        Assert.That(dog.GetProperty("id").GetInt32(), Is.EqualTo(1));
        Assert.That(dog.GetProperty("name").GetString(), Is.EqualTo("dog"));
        Assert.That(dog.GetProperty("precision").GetDouble(), Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(dog.GetProperty("recall").GetDouble(), Is.EqualTo(0.5));
        Assert.That(dog.GetProperty("accuracy").GetDouble(), Is.EqualTo(0.5));
        Assert.That(dog.GetProperty("support").GetInt64(), Is.EqualTo(4));
        var rows = root.GetProperty("confusion_matrix").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
        Assert.That(rows, Is.EqualTo(new[] { new long[] { 3, 1, 0 }, [1, 2, 1], [0, 0, 2] }));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Is.EqualTo(new[] { path }), "no temporary file left beside it");
    }

    [Test]
    public void A_NaN_eval_loss_is_written_rather_than_failing_the_report()
    {
        var report = EvalReport.Create("M", "w", ConfusionMatrixTests.HandMade(), ClassNames.Ids(3), new Dictionary<string, double> { ["loss"] = double.NaN });

        Assert.That(report.ToJson(), Does.Contain("\"loss\": \"NaN\""));
        Assert.That(report.ToJson(), Does.Contain("\"class_names_source\": null"));
    }
}
