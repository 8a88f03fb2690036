using System.Text;

namespace Ppcls.Inference;

/// <summary>
/// Opens a label map (`id name` lines) by the path a config gives. PaddleClas's ImageNet configs name
/// `ppcls/utils/imagenet1k_label_list.txt` inside its checkout; Ppcls ships that list (the 1000 ImageNet-1k class
/// names) in this assembly, so the path resolves wherever no such file exists on disk.
/// </summary>
public static class LabelMapFile
{
    /// <summary>The path PaddleClas's ImageNet configs give for the class names.</summary>
    public const string ImageNet1k = "ppcls/utils/imagenet1k_label_list.txt";

    const string Resource = "Ppcls.Inference.Labels.imagenet1k_label_list.txt";

    /// <summary>The file exists, or it is PaddleClas's ImageNet list, which Ppcls ships.</summary>
    public static bool Exists(string path) => File.Exists(path) || IsShippedImageNet(path);

    /// <summary>The map's lines: the file's, else (for <see cref="ImageNet1k"/>) the shipped list's.</summary>
    public static IEnumerable<string> ReadLines(string path) =>
        File.Exists(path) || !IsShippedImageNet(path) ? File.ReadLines(path, Encoding.UTF8) : ImageNetLines();

    /// <summary>The 1000 ImageNet-1k class names by id.</summary>
    public static IReadOnlyList<string> ImageNetNames() => TopkPostProcess.ReadLabelMap(ImageNet1k, "ImageNet-1k labels");

    static bool IsShippedImageNet(string path)
    {
        string normal = path.Replace('\\', '/');
        return normal == ImageNet1k || normal.EndsWith("/" + ImageNet1k, StringComparison.Ordinal);
    }

    static IEnumerable<string> ImageNetLines()
    {
        using var stream = typeof(LabelMapFile).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"{Resource} is missing from {typeof(LabelMapFile).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line) yield return line;
    }
}
