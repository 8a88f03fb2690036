using System.Globalization;
using Ppcls.Core.Config;
using Ppcls.Inference;

namespace Ppcls.Core.Reporting;

/// <summary>
/// A name for every class id, read from a PaddleClas label map (`label_list.txt`,
/// `Infer.PostProcess.class_id_map_file`: one `id name` line per class, the name may hold
/// spaces); classes the file does not name keep their id as name.
/// </summary>
/// <param name="Names">One entry per class id, 0 .. class_num - 1.</param>
/// <param name="Source">The file the names came from, or null when they are the ids.</param>
public sealed record ClassNames(IReadOnlyList<string> Names, string? Source)
{
    public static ClassNames Ids(int classNum) =>
        new(Enumerable.Range(0, classNum).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray(), null);

    /// <summary>
    /// The names for an eval run: `Infer.PostProcess.class_id_map_file` when it exists, else
    /// `label_list.txt` beside `DataLoader.Eval.dataset.cls_label_path`, else the ids.
    /// </summary>
    public static ClassNames ForEval(PpclsConfig config, Action<string> warn)
    {
        int classNum = config.Arch.ClassNum;
        if (config.Infer?.PostProcess?.OptionalString("class_id_map_file") is { } mapFile)
        {
            if (LabelMapFile.Exists(mapFile)) return Read(mapFile, classNum);
            warn($"Infer.PostProcess.class_id_map_file: '{mapFile}' not found (relative paths start at {Directory.GetCurrentDirectory()}); " +
                "the eval report looks for label_list.txt beside the eval list instead");
        }
        if (config.DataLoader?.Eval?.Dataset.OptionalString("cls_label_path") is { } listFile)
        {
            string beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(listFile)) ?? ".", "label_list.txt");
            if (File.Exists(beside)) return Read(beside, classNum);
        }
        return Ids(classNum);
    }

    /// <summary>Reads an `id name` file; a line that is not `id name` is an error naming the file and line.</summary>
    public static ClassNames Read(string path, int classNum)
    {
        var names = Ids(classNum).Names.ToArray();
        int lineNo = 0;
        foreach (string raw in LabelMapFile.ReadLines(path))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0) continue;
            int space = line.IndexOfAny([' ', '\t']);
            if (space < 0 || !int.TryParse(line.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                throw new PpclsUserException($"{path}:{lineNo}: expected 'id name' (e.g. '0 tench'), got '{raw}'; fix the line or point the config at another label file");
            if (id < classNum) names[id] = line[(space + 1)..].Trim();
        }
        return new ClassNames(names, File.Exists(path) ? Path.GetFullPath(path) : path);
    }
}
