using Ppcls.Core;

namespace Ppcls.Data.Datasets;

/// <summary>
/// A custom data set laid out as ROOT/&lt;class&gt;/*.jpg|jpeg|png|bmp|webp: the class folders
/// in ordinal name order (hidden folders left out), each with its image files in ordinal order.
/// </summary>
public static class ClassFolderTree
{
    public static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    public sealed record ClassFolder(string Name, IReadOnlyList<string> Files);

    /// <summary>The class folders that hold at least one image; an error names the root when there are none.</summary>
    public static IReadOnlyList<ClassFolder> Scan(string root, string what)
    {
        if (!Directory.Exists(root)) throw new PpclsUserException($"{what}: folder '{root}' does not exist");
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        if (classes.Count == 0) throw new PpclsUserException($"{what}: '{root}' has no class folders (expected {root}/<class>/*.jpg)");
        var withImages = classes
            .Select(c => new ClassFolder(c, [.. Directory.GetFiles(Path.Combine(root, c)).Select(Path.GetFileName).OfType<string>()
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal)]))
            .Where(c => c.Files.Count > 0).ToList();
        if (withImages.Count == 0)
            throw new PpclsUserException($"{what}: no images ({string.Join(", ", ImageExtensions)}) in the {classes.Count} class folders of '{root}'");
        return withImages;
    }
}
