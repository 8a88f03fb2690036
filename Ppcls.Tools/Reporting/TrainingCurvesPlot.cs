using Ppcls.Core.Reporting;
using ScottPlot;

namespace Ppcls.Tools.Reporting;

/// <summary>
/// `training_curves.png`: three panels over the epochs: train and eval loss, eval top-1, and the
/// learning rate (of each epoch's last iteration). Epochs without an eval have no eval point.
/// </summary>
public static class TrainingCurvesPlot
{
    public const string FileName = "training_curves.png";
    public const int Width = 900;
    public const int Height = 1050;

    public static void Save(string path, IReadOnlyList<EpochRecord> history)
    {
        if (history.Count == 0) throw new ArgumentException("no epoch to plot", nameof(history));
        double[] epochs = history.Select(r => (double)r.Epoch).ToArray();
        var evaluated = history.Where(r => r.EvalLoss is not null || r.EvalTop1 is not null).ToArray();

        var figure = new Multiplot();
        figure.AddPlots(3);
        Plot loss = figure.GetPlot(0), top1 = figure.GetPlot(1), lr = figure.GetPlot(2);
        foreach (var panel in new[] { loss, top1, lr })
        {
            PngPlot.Style(panel);
            panel.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            panel.Axes.Left.MinimumSize = 70; // the same width in every panel keeps the epochs aligned
        }

        // Losses spanning orders of magnitude (an unstable eval early on) are drawn on a log axis.
        var losses = history.Select(r => r.TrainLoss).Concat(evaluated.Select(r => r.EvalLoss ?? double.NaN)).Where(double.IsFinite).ToArray();
        bool logScale = losses.Length > 0 && losses.Min() > 0 && losses.Max() / losses.Min() > 50;
        Func<double?, double?> scale = logScale ? v => v is { } x ? Math.Log10(x) : null : v => v;
        loss.Title(logScale ? "Loss (log scale)" : "Loss");
        if (logScale) LogAxis(loss);
        Series(loss, history, r => scale(r.TrainLoss), "train");
        Series(loss, evaluated, r => scale(r.EvalLoss), "eval");
        loss.ShowLegend(Alignment.UpperRight);

        top1.Title("Eval top-1");
        if (!Series(top1, evaluated, r => r.EvalTop1, null))
            top1.Add.Annotation("no evaluation ran (Global.eval_during_train / DataLoader.Eval)", Alignment.MiddleCenter);

        lr.Title("Learning rate (last iteration of each epoch)");
        lr.Add.Scatter(epochs, history.Select(r => r.LearningRate).ToArray());
        lr.XLabel("epoch");

        PngPlot.Save(figure.Render(Width, Height), path);
    }

    /// <summary>Adds the epochs where <paramref name="value"/> is a finite number; false when there is none.</summary>
    static bool Series(Plot panel, IEnumerable<EpochRecord> records, Func<EpochRecord, double?> value, string? legend)
    {
        var points = records.Select(r => (r.Epoch, Value: value(r))).Where(p => p.Value is { } v && double.IsFinite(v)).ToArray();
        if (points.Length == 0) return false;
        var series = panel.Add.Scatter(points.Select(p => (double)p.Epoch).ToArray(), points.Select(p => p.Value!.Value).ToArray());
        if (legend is not null) series.LegendText = legend;
        return true;
    }

    /// <summary>Y values are log10 of the data: ticks at whole powers of ten, labelled with the value.</summary>
    static void LogAxis(Plot panel) =>
        panel.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = y => PowerOfTen(Math.Pow(10, y)),
        };

    static string PowerOfTen(double v) =>
        v.ToString(v is >= 1e-3 and < 1e5 ? "0.###" : "0E0", System.Globalization.CultureInfo.InvariantCulture);
}
