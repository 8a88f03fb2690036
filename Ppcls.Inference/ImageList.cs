namespace Ppcls.Inference;

/// <summary>
/// The images an `infer_imgs` value names, as PaddleClas's `get_image_list`: one image file, or
/// every image file under a folder (walked recursively), sorted by path.
/// </summary>
public static class ImageList
{
    public static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    public static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    public static IReadOnlyList<string> Collect(string path, string keyPath)
    {
        if (File.Exists(path))
            return IsImage(path)
                ? [path]
                : throw new UserInputException($"{keyPath}: '{path}' is not an image file ({string.Join(", ", Extensions)})");
        if (!Directory.Exists(path))
            throw new UserInputException($"{keyPath}: '{path}' not found; give an image file or a folder of images");
        var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(IsImage).Order(StringComparer.Ordinal).ToList();
        return files.Count > 0
            ? files
            : throw new UserInputException($"{keyPath}: no image files ({string.Join(", ", Extensions)}) in '{path}'");
    }
}
