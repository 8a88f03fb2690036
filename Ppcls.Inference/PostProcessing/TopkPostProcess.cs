using System.Globalization;

namespace Ppcls.Inference;

/// <summary>
/// PaddleClas's `Topk` post-process over probabilities: the k most likely classes (k capped at
/// the class count), highest first, scores rounded to 5 decimals as numpy's `around`, and their
/// names from the label map (`id name` lines, split at the first <c>delimiter</c>).
/// </summary>
public sealed class TopkPostProcess : IPostProcess
{
    /// <param name="labelSource">Names the label map in messages (its key and file).</param>
    public TopkPostProcess(int topk, IReadOnlyList<string>? labels, string labelSource = "the label map")
    {
        if (topk < 1) throw new UserInputException($"Topk: topk must be at least 1, got {topk}");
        Topk = topk;
        Labels = labels;
        LabelSource = labelSource;
    }

    public string Name => "Topk";
    public OutputActivation Activation => OutputActivation.Softmax;

    public int Topk { get; }

    /// <summary>Class names by id; null without a label map.</summary>
    public IReadOnlyList<string>? Labels { get; }

    public string LabelSource { get; }

    /// <summary>Checks that every class the model can predict has a name.</summary>
    public void CheckClassCount(int classes, string fix) => ClassScores.CheckLabels(Labels, LabelSource, classes, fix);

    public IReadOnlyList<KeyValuePair<string, object>> DeployOptions =>
        Labels is null ? [new("topk", Topk)] : [new("topk", Topk), new("label_list", Labels)];

    IPredictionResult IPostProcess.Apply(ReadOnlySpan<float> scores, string fileName) => Apply(scores, fileName);

    /// <summary>The top-k of one image's probabilities.</summary>
    public ClassResult Apply(ReadOnlySpan<float> probabilities, string fileName)
    {
        var probs = probabilities.ToArray();
        var ids = ClassScores.Descending(probs).Take(Math.Min(Topk, probs.Length)).ToArray();
        var scores = ids.Select(i => ClassScores.Round5(probs[i])).ToArray();
        var names = Labels is null ? [] : ids.Select(i => i < Labels.Count ? Labels[i] : "").ToArray();
        return new ClassResult(ids, scores, fileName, names);
    }

    /// <summary>
    /// Reads a PaddleClas label map (`0 tench`, one line a class, id then name after the first
    /// delimiter). Ids must be 0 .. n-1 in any order; the message names the file and line. PaddleClas's
    /// `ppcls/utils/imagenet1k_label_list.txt` is the shipped list where no such file exists (<see cref="LabelMapFile"/>).
    /// </summary>
    public static IReadOnlyList<string> ReadLabelMap(string path, string keyPath, string delimiter = " ")
    {
        if (!LabelMapFile.Exists(path))
            throw new UserInputException($"{keyPath}: label map '{path}' not found; point it at an 'id name' file such as dataset/demo/label_list.txt");
        var names = new Dictionary<int, string>();
        int lineNumber = 0;
        foreach (var raw in LabelMapFile.ReadLines(path))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            int cut = line.IndexOf(delimiter, StringComparison.Ordinal);
            string idText = cut < 0 ? line : line[..cut];
            if (!int.TryParse(idText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id) || id < 0)
                throw new UserInputException($"{path}:{lineNumber}: expected 'id{delimiter}name' with a class id, got '{line}'");
            if (!names.TryAdd(id, cut < 0 ? "" : line[(cut + delimiter.Length)..]))
                throw new UserInputException($"{path}:{lineNumber}: class id {id} appears twice");
        }
        var list = new string[names.Count];
        foreach (var (id, name) in names)
        {
            if (id >= list.Length)
                throw new UserInputException($"{path}: class ids must run from 0 to {list.Length - 1}, found {id}");
            list[id] = name;
        }
        return list;
    }
}
