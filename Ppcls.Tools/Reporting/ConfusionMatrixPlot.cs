using System.Globalization;
using Ppcls.Core.Metric;
using ScottPlot;

namespace Ppcls.Tools.Reporting;

/// <summary>
/// `confusion_matrix.png`: a heat map with true classes as rows (first at the top) and predicted
/// classes as columns, coloured by the fraction of each true class, with class names on the axes
/// up to <see cref="MaxNamedClasses"/> classes (class ids beyond) and the counts in the cells up
/// to <see cref="MaxCountedClasses"/>.
/// </summary>
public static class ConfusionMatrixPlot
{
    public const string FileName = "confusion_matrix.png";
    public const int MaxNamedClasses = 50;
    public const int MaxCountedClasses = 20;
    const int LabelChars = 24;

    /// <summary>The image size for <paramref name="classes"/> classes: the square plot area grows with the count, plus room for the colour bar.</summary>
    public static (int Width, int Height) Size(int classes)
    {
        int side = Math.Clamp(240 + 36 * classes, 640, 2400);
        return (side + 160, side);
    }

    public static void Save(string path, ConfusionMatrix confusion, IReadOnlyList<string> names)
    {
        int n = confusion.ClassCount;
        var fractions = new double[n, n];
        for (int r = 0; r < n; r++)
        {
            long support = confusion.Support(r);
            for (int c = 0; c < n; c++) fractions[r, c] = support == 0 ? 0 : (double)confusion[r, c] / support;
        }

        var plot = new Plot();
        PngPlot.Style(plot);
        // ScottPlot draws row 0 of the intensities at the top (y = n - 1).
        var heatmap = plot.Add.Heatmap(fractions);
        heatmap.Colormap = new ScottPlot.Colormaps.Blues().Reversed();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        plot.Add.ColorBar(heatmap).Axis.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.1);

        if (n <= MaxCountedClasses)
            for (int r = 0; r < n; r++)
                for (int c = 0; c < n; c++)
                {
                    var text = plot.Add.Text(confusion[r, c].ToString(CultureInfo.InvariantCulture), c, n - 1 - r);
                    text.LabelAlignment = Alignment.MiddleCenter;
                    text.LabelFontSize = n <= 10 ? 16 : 11;
                    text.LabelFontColor = fractions[r, c] > 0.5 ? Colors.White : Colors.Black;
                }
        // Names when they fit, else every k-th class id; rows count down from the top.
        bool named = n <= MaxNamedClasses;
        int stride = named ? 1 : (n + MaxNamedClasses - 1) / MaxNamedClasses;
        int[] ticked = Enumerable.Range(0, n).Where(i => i % stride == 0).ToArray();
        string[] labels = ticked.Select(i => named ? Shorten(names[i]) : i.ToString(CultureInfo.InvariantCulture)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticked.Select(i => (double)i).ToArray(), labels);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticked.Select(i => (double)(n - 1 - i)).ToArray(), labels);
        if (named)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            plot.Axes.Bottom.MinimumSize = 30 + 6 * labels.Max(l => l.Length);
        }
        plot.Grid.IsVisible = false;
        plot.Axes.Margins(0, 0);
        plot.Title($"Confusion matrix: {confusion.Total} images, top-1 {confusion.Accuracy:F4} (colour: share of the true class)");
        plot.XLabel("predicted class");
        plot.YLabel("true class");

        var (width, height) = Size(n);
        PngPlot.Save(plot.GetImage(width, height), path);
    }

    static string Shorten(string name) => name.Length <= LabelChars ? name : name[..(LabelChars - 1)] + "…";
}
