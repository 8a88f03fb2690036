using System.Globalization;
using Ppcls.Core.Config;
using Ppcls.Core.Data;

namespace Ppcls.Data.Datasets;

/// <summary>
/// PaddleClas's `VeriWild` (vehicle / product ReID lists, also Aliproduct, SOP, Inshop):
/// `cls_label_path` lists `relative/path label [camera]` lines split on whitespace, images under
/// `image_root`. The camera ids, where every line has one, let retrieval eval leave out gallery
/// images of the query's identity seen by the query's camera, as PaddleClas does. With `relabel`
/// the distinct labels map to 0..K-1 in ascending order. Every bad line is reported at once,
/// one line each, as `file:line: problem`.
/// </summary>
public sealed class VeriWildDataset : IDataset
{
    readonly string[] _paths;
    readonly long[] _labels;

    VeriWildDataset(string[] paths, long[] labels, long[]? cameras, string listPath)
    {
        _paths = paths;
        _labels = labels;
        Cameras = cameras;
        LabelSummary = LabelSummary.Of(listPath, labels);
    }

    public int Count => _paths.Length;
    public BadImagePolicy OnBadImage => BadImagePolicy.Error;
    public long Label(int index) => _labels[index];
    public string Describe(int index) => _paths[index];
    public byte[] Read(int index) => File.ReadAllBytes(_paths[index]);
    public IReadOnlyList<long> Labels => _labels;
    public IReadOnlyList<long>? Cameras { get; }
    public LabelSummary LabelSummary { get; private set; }

    public static VeriWildDataset Create(ConfigSection s, DataBuildContext context)
    {
        string root = s.RequiredString("image_root", "./dataset/VeRI-Wild/images/");
        string list = s.RequiredString("cls_label_path", "./dataset/VeRI-Wild/train_test_split/train_list_start0.txt");
        bool relabel = s.Bool("relabel", false);
        string backend = s.Choice("backend", "cv2", "cv2", "pil");
        if (backend == "pil")
            throw ConfigException.At(s.KeyPath("backend"), s.Raw("backend")?.Location, "Ppcls decodes images with OpenCV only; set backend: cv2 or remove it");
        s.Finish(context.Notice);
        if (!Directory.Exists(root))
            throw ConfigException.At(s.KeyPath("image_root"), s.Raw("image_root")?.Location, $"folder '{root}' does not exist");
        if (!File.Exists(list))
            throw ConfigException.At(s.KeyPath("cls_label_path"), s.Raw("cls_label_path")?.Location, $"list file '{list}' does not exist");
        var dataset = Load(root, list, relabel);
        dataset.LabelSummary = dataset.LabelSummary with { ListKey = s.KeyPath("cls_label_path") };
        return dataset;
    }

    public static VeriWildDataset Load(string root, string listPath, bool relabel)
    {
        var problems = new List<string>();
        var paths = new List<string>();
        var labels = new List<long>();
        var cameras = new List<long>();
        int withCamera = 0;
        var lines = File.ReadAllLines(listPath);
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0) continue;
            string where = $"{listPath}:{n + 1}";
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length is < 2 or > 3)
            {
                problems.Add($"{where}: expected 'path label [camera]', got '{ListProblems.Shorten(line)}'");
                continue;
            }
            if (!long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long label) || label < 0)
            {
                problems.Add($"{where}: label '{ListProblems.Shorten(fields[1])}' is not a non-negative integer");
                continue;
            }
            long camera = -1;
            if (fields.Length == 3 && !long.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out camera))
            {
                problems.Add($"{where}: camera '{ListProblems.Shorten(fields[2])}' is not an integer");
                continue;
            }
            if (fields.Length == 3) withCamera++;
            string path = Path.Combine(root, fields[0]);
            if (!File.Exists(path)) problems.Add($"{where}: image '{path}' does not exist");
            paths.Add(path);
            labels.Add(label);
            cameras.Add(camera);
        }
        if (withCamera > 0 && withCamera < paths.Count)
            problems.Add($"{listPath}: {withCamera} of {paths.Count} lines give a camera id; give one on every line or on none");
        if (problems.Count == 0 && paths.Count == 0) problems.Add($"{listPath}: the list has no images");
        ListProblems.ThrowIfAny(problems, listPath, "VeriWild list");
        if (relabel) ListProblems.Relabel(labels);
        return new VeriWildDataset([.. paths], [.. labels], withCamera > 0 ? [.. cameras] : null, listPath);
    }
}
