using Ppcls.Core.IO;
using ScottPlot;

namespace Ppcls.Tools.Reporting;

/// <summary>What the report plots share: the font, and writing a rendered image atomically.</summary>
static class PngPlot
{
    /// <summary>DejaVu Sans where installed (Debian's fonts-dejavu-core), else ScottPlot's pick.</summary>
    static readonly Lazy<string> SansFont = new(() =>
        Fonts.GetTypeface("DejaVu Sans", bold: false, italic: false).FamilyName == "DejaVu Sans" ? "DejaVu Sans" : Fonts.Sans);

    public static void Style(Plot plot) => plot.Font.Set(SansFont.Value);

    /// <summary>Writes <paramref name="image"/> as PNG through a temporary file and a rename.</summary>
    public static void Save(Image image, string path)
    {
        using (image) AtomicFile.WriteAllBytes(path, image.GetImageBytes(ImageFormat.Png));
    }
}
