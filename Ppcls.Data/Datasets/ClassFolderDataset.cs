using System.Globalization;
using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Core.IO;

namespace Ppcls.Data.Datasets;

/// <summary>
/// `ClassFolderDataset` (a Ppcls addition for custom data): every image under
/// `image_root/&lt;class&gt;/`, labelled through the label map `label_list_path` (`id name`
/// lines, default `image_root/label_list.txt`). A missing map is written with the class
/// folders numbered in ordinal order; an existing one is followed, so a validation tree can
/// share the training tree's ids by pointing at the same file.
/// </summary>
public static class ClassFolderDataset
{
    public const string DefaultLabelList = "label_list.txt";

    public static IDataset Create(ConfigSection s, DataBuildContext context)
    {
        string? rootKey = s.OptionalString("image_root");
        string? mapKey = s.OptionalString("label_list_path");
        var policy = s.Choice("on_bad_image", "error", "error", "skip") == "skip" ? BadImagePolicy.Skip : BadImagePolicy.Error;
        s.Finish(context.Notice);
        string root = rootKey ?? s.RequiredString("image_root", "./dataset/flowers/train/");
        if (!Directory.Exists(root))
            throw ConfigException.At(s.KeyPath("image_root"), s.Map["image_root"]?.Location, $"folder '{root}' does not exist");
        return Load(root, mapKey ?? Path.Combine(root, DefaultLabelList), context.ClassNum, policy, context.Notice).ListedBy(s.KeyPath("image_root"));
    }

    public static ImageNetDataset Load(string root, string labelListPath, int classNum, BadImagePolicy policy, Action<string> notice)
    {
        var folders = ClassFolderTree.Scan(root, "ClassFolderDataset");
        IReadOnlyDictionary<string, long> ids;
        if (File.Exists(labelListPath))
        {
            ids = ReadLabelList(labelListPath);
            var unknown = folders.Select(f => f.Name).Where(n => !ids.ContainsKey(n)).ToList();
            if (unknown.Count > 0)
                throw new PpclsUserException(
                    $"{labelListPath}: class folder{(unknown.Count == 1 ? "" : "s")} {string.Join(", ", unknown.Take(10))} of '{root}' not in the label map; add an 'id name' line for each, or delete the file to number the classes afresh");
        }
        else
        {
            ids = folders.Select((f, i) => (f.Name, Id: (long)i)).ToDictionary(p => p.Name, p => p.Id);
            AtomicFile.WriteAllText(labelListPath, string.Concat(folders.Select((f, i) => $"{i} {f.Name}\n")));
            notice($"ClassFolderDataset: wrote the label map {labelListPath} ({folders.Count} classes from the folders of '{root}')");
        }
        long top = ids.Values.Max();
        if (classNum > 0 && top >= classNum)
            throw new PpclsUserException($"{labelListPath}: class id {top} is out of range for Arch.class_num {classNum}; set -o Arch.class_num={top + 1}");

        var paths = new List<string>();
        var labels = new List<long>();
        foreach (var folder in folders)
            foreach (var file in folder.Files)
            {
                paths.Add(Path.Combine(root, folder.Name, file));
                labels.Add(ids[folder.Name]);
            }
        return ImageNetDataset.FromFiles([.. paths], [.. labels], policy, root);
    }

    /// <summary>Reads `id name` lines (blank lines skipped); every malformed or repeated line is reported together.</summary>
    public static IReadOnlyDictionary<string, long> ReadLabelList(string path)
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        var problems = new List<string>();
        var lines = File.ReadAllLines(path);
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0) continue;
            var fields = line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !long.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long id) || id < 0)
                problems.Add($"{path}:{n + 1}: expected 'id name' with a class id of 0 or more, got '{line}'");
            else if (!ids.TryAdd(fields[1].Trim(), id))
                problems.Add($"{path}:{n + 1}: class '{fields[1].Trim()}' is listed twice");
        }
        if (problems.Count == 0 && ids.Count == 0) problems.Add($"{path}: the label map is empty");
        if (problems.Count > 0) throw new PpclsUserException($"{path}: {problems.Count} problem{(problems.Count == 1 ? "" : "s")} in the label map:\n  {string.Join("\n  ", problems.Take(20))}");
        return ids;
    }
}
