using OpenCvSharp;
using Ppcls.Core.Metric;
using Ppcls.Core.Reporting;
using Ppcls.Tools.Reporting;

namespace Ppcls.Tools.Tests;

/// <summary>The PNG reports drawn from hand-made inputs: they decode, at the size promised, for the awkward cases too.</summary>
public sealed class ReportPlotTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-plot-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static (int Width, int Height, double Mean) Decode(string path)
    {
        using var image = Cv2.ImRead(path, ImreadModes.Grayscale);
        Assert.That(image.Empty(), Is.False, $"{path} does not decode");
        return (image.Width, image.Height, Cv2.Mean(image).Val0);
    }

    [Test]
    public void Curves_of_a_run_without_eval_and_with_a_NaN_eval_loss_still_draw()
    {
        string noEval = Path.Combine(_dir, "no-eval.png"), nanLoss = Path.Combine(_dir, "nan.png");

        TrainingCurvesPlot.Save(noEval, [new(1, 2.3, 0.1), new(2, 1.9, 0.05)]);
        TrainingCurvesPlot.Save(nanLoss, [new(1, 2.3, 0.1, double.NaN, 0.25), new(2, 1.9, 0.05, 1.7, 0.5)]);

        foreach (string path in new[] { noEval, nanLoss })
        {
            var (width, height, mean) = Decode(path);
            Assert.That((width, height), Is.EqualTo((TrainingCurvesPlot.Width, TrainingCurvesPlot.Height)));
            Assert.That(mean, Is.InRange(200, 254.9), "mostly white, with something drawn on it");
        }
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(2), "no temporary files left");
    }

    [Test]
    public void Empty_history_is_refused_rather_than_drawn_blank()
    {
        Assert.That(() => TrainingCurvesPlot.Save(Path.Combine(_dir, "x.png"), []), Throws.ArgumentException);
    }

    [TestCase(1, 800, 640)]
    [TestCase(12, 832, 672)]
    [TestCase(60, 2560, 2400)]
    public void A_confusion_matrix_image_grows_with_the_class_count(int classes, int width, int height)
    {
        var m = new ConfusionMatrix(classes);
        for (int c = 0; c < classes; c++) m.Add(c, (c * 7) % classes, 3);
        string path = Path.Combine(_dir, $"cm{classes}.png");

        ConfusionMatrixPlot.Save(path, m, ClassNames.Ids(classes).Names);

        var (w, h, _) = Decode(path);
        Assert.That((w, h), Is.EqualTo((width, height)));
        Assert.That(ConfusionMatrixPlot.Size(classes), Is.EqualTo((width, height)));
    }
}
