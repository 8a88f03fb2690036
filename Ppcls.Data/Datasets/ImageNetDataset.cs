using System.Globalization;
using Ppcls.Core.Config;
using Ppcls.Core.Data;

namespace Ppcls.Data.Datasets;

/// <summary>
/// `ImageNetDataset`: `cls_label_path` lists `relative/path label` lines (split on `delimiter`,
/// default a space; blank lines are skipped), images under `image_root`. A list whose lines all
/// hold a path alone is unlabeled (label -1 each: SSLD stage 1 learns from a teacher only). With `relabel`, the
/// distinct labels map to 0..K-1 in ascending order. The whole list is checked when built and
/// every problem (bad line, bad label, missing image) is reported at once with file:line.
/// </summary>
public sealed class ImageNetDataset : IDataset
{
    readonly string[] _paths;
    readonly long[] _labels;

    ImageNetDataset(string[] paths, long[] labels, BadImagePolicy policy, string listPath)
    {
        _paths = paths;
        _labels = labels;
        OnBadImage = policy;
        LabelSummary = LabelSummary.Of(listPath, labels);
    }

    public int Count => _paths.Length;
    public BadImagePolicy OnBadImage { get; }
    public long Label(int index) => _labels[index];
    public string Describe(int index) => _paths[index];
    public byte[] Read(int index) => File.ReadAllBytes(_paths[index]);
    public IReadOnlyList<long> Labels => _labels;
    public LabelSummary LabelSummary { get; private set; }

    /// <summary>Names the config key of the list in the labels' messages (the data set's own key: list file or image root).</summary>
    internal ImageNetDataset ListedBy(string listKey)
    {
        LabelSummary = LabelSummary with { ListKey = listKey };
        return this;
    }

    /// <summary>Images and labels found another way (a class-folder tree), already checked.</summary>
    internal static ImageNetDataset FromFiles(string[] paths, long[] labels, BadImagePolicy policy, string source) => new(paths, labels, policy, source);

    public static ImageNetDataset Create(ConfigSection s, DataBuildContext context)
    {
        string? rootKey = s.OptionalString("image_root");
        string? listKey = s.OptionalString("cls_label_path");
        string? delimiter = s.OptionalString("delimiter");
        bool relabel = s.Bool("relabel", false);
        var policy = s.Choice("on_bad_image", "error", "error", "skip") == "skip" ? BadImagePolicy.Skip : BadImagePolicy.Error;
        s.Finish(context.Notice);
        string root = rootKey ?? s.RequiredString("image_root", "./dataset/ILSVRC2012/");
        string list = listKey ?? s.RequiredString("cls_label_path", "./dataset/ILSVRC2012/train_list.txt");
        if (!Directory.Exists(root))
            throw ConfigException.At(s.KeyPath("image_root"), s.Map["image_root"]?.Location, $"folder '{root}' does not exist");
        if (!File.Exists(list))
            throw ConfigException.At(s.KeyPath("cls_label_path"), s.Map["cls_label_path"]?.Location,
                $"list file '{list}' does not exist (generate the demo set with 'ppcls dataset make-demo DIR' or lists with 'ppcls dataset split --root DIR')");
        return Load(root, list, delimiter, relabel, context.ClassNum, policy).ListedBy(s.KeyPath("cls_label_path"));
    }

    public static ImageNetDataset Load(string root, string listPath, string? delimiter, bool relabel, int classNum, BadImagePolicy policy)
    {
        var problems = new List<string>();
        var paths = new List<string>();
        var labels = new List<long>();
        var lineNumbers = new List<int>();
        long maxOutOfRange = -1;
        var lines = File.ReadAllLines(listPath);
        var (pathOnly, labelled) = CountShapes(lines, delimiter);
        bool unlabeled = pathOnly > 0 && labelled == 0;
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0) continue;
            string where = $"{listPath}:{n + 1}";
            var fields = delimiter is null or " "
                ? line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
                : line.Split(delimiter);
            if (unlabeled)
            {
                string image = Path.Combine(root, fields[0].Trim());
                if (!File.Exists(image)) problems.Add($"{where}: image '{image}' does not exist");
                paths.Add(image);
                labels.Add(LabelSummary.NoLabel);
                lineNumbers.Add(n + 1);
                continue;
            }
            if (fields.Length < 2)
            {
                problems.Add($"{where}: expected 'path{delimiter ?? " "}label', got '{ListProblems.Shorten(line)}'");
                continue;
            }
            if (!long.TryParse(fields[1].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long label))
            {
                problems.Add($"{where}: label '{ListProblems.Shorten(fields[1])}' is not an integer");
                continue;
            }
            if (label < 0)
            {
                problems.Add($"{where}: label {label} is negative");
                continue;
            }
            if (!relabel && classNum > 0 && label >= classNum)
            {
                maxOutOfRange = Math.Max(maxOutOfRange, label);
                problems.Add($"{where}: label {label} is out of range for class_num {classNum} (labels are 0..{classNum - 1})");
            }
            string path = Path.Combine(root, fields[0].Trim());
            if (!File.Exists(path)) problems.Add($"{where}: image '{path}' does not exist");
            paths.Add(path);
            labels.Add(label);
            lineNumbers.Add(n + 1);
        }
        if (relabel && !unlabeled)
        {
            int distinct = ListProblems.Relabel(labels);
            if (classNum > 0 && distinct > classNum)
                problems.Add($"{listPath}: relabel found {distinct} distinct labels but class_num is {classNum}; set -o Arch.class_num={distinct}");
        }
        if (problems.Count == 0 && paths.Count == 0) problems.Add($"{listPath}: the list has no images");
        ListProblems.ThrowIfAny(problems, listPath, "image list", maxOutOfRange < 0 ? ""
            : $"\n  the labels go up to {maxOutOfRange}: set Arch.class_num to at least {maxOutOfRange + 1} (-o Arch.class_num={maxOutOfRange + 1}), or fix the list");
        return new ImageNetDataset([.. paths], [.. labels], policy, listPath);
    }

    /// <summary>Lines with a path alone, and lines with more fields (blank lines count as neither).</summary>
    static (int PathOnly, int Labelled) CountShapes(string[] lines, string? delimiter)
    {
        int pathOnly = 0, labelled = 0;
        foreach (var raw in lines)
        {
            string line = raw.Trim();
            if (line.Length == 0) continue;
            int fields = delimiter is null or " " ? line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length : line.Split(delimiter).Length;
            if (fields == 1) pathOnly++;
            else labelled++;
        }
        return (pathOnly, labelled);
    }

}
