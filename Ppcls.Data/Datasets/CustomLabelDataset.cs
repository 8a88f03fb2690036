using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Core.Data;

namespace Ppcls.Data.Datasets;

/// <summary>
/// `CustomLabelDataset` (PULC clarity_assessment, image_orientation): `sample_list_path` lists
/// images under `image_root` (one a line; with `delimiter`, the part before it), without labels.
/// Each sample's label is the one an op of `transform_ops` decides, under `label_key` (BlurImage's
/// `blur_image`, RandomRot90's `random_rot90_orientation`).
/// </summary>
public sealed class CustomLabelDataset(string[] paths, string labelKey, BadImagePolicy policy) : IDataset
{
    public int Count => paths.Length;
    public BadImagePolicy OnBadImage => policy;
    public string? LabelKey => labelKey;

    /// <summary>No label before the transforms: the loader takes it from the op that sets <see cref="LabelKey"/>.</summary>
    public long Label(int index) => LabelSummary.NoLabel;

    public string Describe(int index) => paths[index];
    public byte[] Read(int index) => File.ReadAllBytes(paths[index]);

    public static IDataset Create(ConfigSection s, DataBuildContext context)
    {
        string root = s.RequiredString("image_root", "./dataset/");
        string list = s.RequiredString("sample_list_path", "./dataset/train_list.txt");
        string labelKey = s.RequiredString("label_key", "blur_image");
        string? delimiter = s.OptionalString("delimiter");
        var policy = s.Choice("on_bad_image", "error", "error", "skip") == "skip" ? BadImagePolicy.Skip : BadImagePolicy.Error;
        s.Finish(context.Notice);
        if (!Directory.Exists(root))
            throw ConfigException.At(s.KeyPath("image_root"), s.Map["image_root"]?.Location, $"folder '{root}' does not exist");
        if (!File.Exists(list))
            throw ConfigException.At(s.KeyPath("sample_list_path"), s.Map["sample_list_path"]?.Location, $"list file '{list}' does not exist");
        var paths = new List<string>();
        var missing = new List<string>();
        var lines = File.ReadAllLines(list);
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (delimiter is not null) line = line.Split(delimiter)[0];
            if (line.Length == 0) continue;
            string path = Path.Combine(root, line);
            if (!File.Exists(path)) missing.Add($"{list}:{n + 1}: image '{path}' does not exist");
            paths.Add(path);
        }
        if (missing.Count > 0)
            throw new PpclsUserException($"{list}: {missing.Count} missing image(s):\n  {string.Join("\n  ", missing.Take(ListProblems.MaxListed))}");
        if (paths.Count == 0) throw new PpclsUserException($"{list}: the list has no images");
        return new CustomLabelDataset([.. paths], labelKey, policy);
    }
}
