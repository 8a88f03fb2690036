using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Core.Data;

namespace Ppcls.Data.Datasets;

/// <summary>
/// PaddleClas's `CustomLabelDataset`: `sample_list_path` lists images (the first `delimiter`-separated
/// field of each line) under `image_root`, without labels (label -1 each), for losses that need none
/// (distillation from a teacher on unlabeled images). PaddleClas can take each image's label from a
/// transform op's output (`label_key`); no Ppcls op makes labels, so `label_key` is refused.
/// </summary>
public static class CustomLabelDataset
{
    public static ImageNetDataset Create(ConfigSection s, DataBuildContext context)
    {
        string root = s.RequiredString("image_root", "./dataset/");
        string list = s.RequiredString("sample_list_path", "./dataset/unlabeled_list.txt");
        string? delimiter = s.OptionalString("delimiter");
        if (s.Has("label_key"))
            throw ConfigException.At(s.KeyPath("label_key"), s.Raw("label_key")?.Location,
                "labels made by a transform op are not supported in Ppcls; remove label_key (the images are then unlabeled) or use ImageNetDataset with a labelled list");
        s.Finish(context.Notice);
        if (!Directory.Exists(root))
            throw ConfigException.At(s.KeyPath("image_root"), s.Raw("image_root")?.Location, $"folder '{root}' does not exist");
        if (!File.Exists(list))
            throw ConfigException.At(s.KeyPath("sample_list_path"), s.Raw("sample_list_path")?.Location, $"list file '{list}' does not exist");
        // Only the first field counts: the rest of a line is ignored, as in PaddleClas.
        var paths = new List<string>();
        var problems = new List<string>();
        var lines = File.ReadAllLines(list);
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0) continue;
            string image = Path.Combine(root, (delimiter is null ? line : line.Split(delimiter)[0]).Trim());
            if (!File.Exists(image)) problems.Add($"{list}:{n + 1}: image '{image}' does not exist");
            paths.Add(image);
        }
        if (problems.Count == 0 && paths.Count == 0) problems.Add($"{list}: the list has no images");
        if (problems.Count > 0)
            throw new PpclsUserException($"{list}: {problems.Count} problem{(problems.Count == 1 ? "" : "s")} in the image list:\n  " +
                string.Join("\n  ", problems.Take(ImageNetDataset.MaxListedProblems)) +
                (problems.Count > ImageNetDataset.MaxListedProblems ? $"\n  ... and {problems.Count - ImageNetDataset.MaxListedProblems} more" : ""));
        long[] labels = [.. paths.Select(_ => LabelSummary.NoLabel)];
        return ImageNetDataset.FromFiles([.. paths], labels, BadImagePolicy.Error, list).ListedBy(s.KeyPath("sample_list_path"));
    }
}
