using System.Globalization;
using Ppcls.Core.Config;
using Ppcls.Core.Data;

namespace Ppcls.Data.Datasets;

/// <summary>
/// PaddleClas <c>MultiLabelDataset</c>: <c>cls_label_path</c> lists <c>relative/path&lt;delimiter&gt;0,1,0,...</c>
/// lines (delimiter a tab unless <c>delimiter</c> says otherwise; blank lines are skipped), images
/// under <c>image_root</c>. Each target is the float 0/1 vector of the line (PaddleClas keeps any
/// integer, e.g. RAP's 2 or an ignored -1, and so does this). With <c>label_ratio: True</c> each
/// target is [2, class_num]: the labels and, in the second row, every attribute's positive ratio
/// over the whole list (what MultiLabelLoss's <c>weight_ratio</c> and ATTRMetric read). Every line
/// must hold the same number of labels, equal to <c>Arch.class_num</c> where it is set; the whole
/// list is checked when built and problems are reported with file:line.
/// </summary>
public sealed class MultiLabelDataset : IMultiLabelDataset
{
    readonly string[] _paths;
    readonly float[][] _labels;
    readonly float[]? _ratio;

    MultiLabelDataset(string[] paths, float[][] labels, float[]? ratio, BadImagePolicy policy, LabelSummary summary)
    {
        _paths = paths;
        _labels = labels;
        _ratio = ratio;
        OnBadImage = policy;
        LabelSummary = summary;
        int width = labels[0].Length;
        TargetShape = ratio is null ? [width] : [2, width];
    }

    public int Count => _paths.Length;
    public BadImagePolicy OnBadImage { get; }
    public LabelSummary LabelSummary { get; }
    public long[] TargetShape { get; }

    /// <summary>The attributes' positive ratios over the list (label_ratio), null without it.</summary>
    public IReadOnlyList<float>? Ratio => _ratio;

    /// <summary>Multi-label items have no single class id.</summary>
    public long Label(int index) => LabelSummary.NoLabel;
    public string Describe(int index) => _paths[index];
    public byte[] Read(int index) => File.ReadAllBytes(_paths[index]);
    public IReadOnlyList<float> Labels(int index) => _labels[index];

    public void WriteTarget(int index, Span<float> destination)
    {
        _labels[index].CopyTo(destination);
        if (_ratio is not null) _ratio.CopyTo(destination[_ratio.Length..]);
    }

    public static MultiLabelDataset Create(ConfigSection s, DataBuildContext context)
    {
        string? rootKey = s.OptionalString("image_root");
        string? listKey = s.OptionalString("cls_label_path");
        string delimiter = s.OptionalString("delimiter") ?? "\t";
        bool labelRatio = s.Bool("label_ratio", false);
        var policy = s.Choice("on_bad_image", "error", "error", "skip") == "skip" ? BadImagePolicy.Skip : BadImagePolicy.Error;
        s.Finish(context.Notice);
        string root = rootKey ?? s.RequiredString("image_root", "./dataset/pa100k/");
        string list = listKey ?? s.RequiredString("cls_label_path", "./dataset/pa100k/train_list.txt");
        if (!Directory.Exists(root))
            throw ConfigException.At(s.KeyPath("image_root"), s.Map["image_root"]?.Location, $"folder '{root}' does not exist");
        if (!File.Exists(list))
            throw ConfigException.At(s.KeyPath("cls_label_path"), s.Map["cls_label_path"]?.Location,
                $"list file '{list}' does not exist (MultiLabelDataset lists 'path<TAB>0,1,0,...' lines)");
        return Load(root, list, delimiter, labelRatio, context.ClassNum, policy, s.KeyPath("cls_label_path"));
    }

    public static MultiLabelDataset Load(string root, string listPath, string delimiter, bool labelRatio, int classNum, BadImagePolicy policy,
        string listKey = "the list file")
    {
        var problems = new List<string>();
        var paths = new List<string>();
        var labels = new List<float[]>();
        int? width = classNum > 0 ? classNum : null;
        var lines = File.ReadAllLines(listPath);
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0) continue;
            string where = $"{listPath}:{n + 1}";
            string shown = ListProblems.Shorten(line);
            var fields = line.Split(delimiter);
            if (fields.Length < 2)
            {
                problems.Add($"{where}: expected 'path{Visible(delimiter)}0,1,...' (delimiter {Visible(delimiter)}), got '{shown}'");
                continue;
            }
            var parts = fields[1].Split(',');
            var vector = new float[parts.Length];
            string? bad = null;
            for (int i = 0; i < parts.Length && bad is null; i++)
                if (long.TryParse(parts[i].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)) vector[i] = v;
                else bad = parts[i];
            if (bad is not null)
            {
                problems.Add($"{where}: label '{ListProblems.Shorten(bad)}' is not an integer (labels are comma-separated 0/1 values)");
                continue;
            }
            width ??= vector.Length;
            if (vector.Length != width)
            {
                problems.Add(classNum > 0
                    ? $"{where}: {vector.Length} labels, but Arch.class_num is {classNum} (every line needs one 0/1 value per class)"
                    : $"{where}: {vector.Length} labels, but earlier lines have {width}");
                continue;
            }
            string path = Path.Combine(root, fields[0].Trim());
            if (!File.Exists(path)) problems.Add($"{where}: image '{path}' does not exist");
            paths.Add(path);
            labels.Add(vector);
        }
        if (problems.Count == 0 && paths.Count == 0) problems.Add($"{listPath}: the list has no images");
        ListProblems.ThrowIfAny(problems, listPath, "multi-label list");
        float[]? ratio = labelRatio ? Ratios(labels) : null;
        int classes = labels[0].Length;
        var summary = new LabelSummary(listPath, classes, classes - 1) { ListKey = listKey, MultiLabel = true };
        return new MultiLabelDataset([.. paths], [.. labels], ratio, policy, summary);
    }

    /// <summary>PaddleClas's label_ratio: the mean of each label column over the list, in float32.</summary>
    static float[] Ratios(List<float[]> labels)
    {
        int width = labels[0].Length;
        var sums = new double[width];
        foreach (var row in labels)
            for (int i = 0; i < width; i++) sums[i] += row[i];
        return [.. sums.Select(s => (float)(s / labels.Count))];
    }

    static string Visible(string delimiter) => delimiter == "\t" ? "<TAB>" : $"'{delimiter}'";
}
