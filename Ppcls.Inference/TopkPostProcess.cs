using System.Globalization;
using System.Text;

namespace Ppcls.Inference;

/// <summary>
/// PaddleClas's `Topk` post-process over probabilities: the k most likely classes (k capped at
/// the class count), highest first, scores rounded to 5 decimals as numpy's `around`, and their
/// names from the label map (`id name` lines, split at the first <c>delimiter</c>).
/// </summary>
public sealed class TopkPostProcess
{
    public TopkPostProcess(int topk, IReadOnlyList<string>? labels)
    {
        if (topk < 1) throw new UserInputException($"Topk: topk must be at least 1, got {topk}");
        Topk = topk;
        Labels = labels;
    }

    public int Topk { get; }

    /// <summary>Class names by id; null without a label map.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Checks that every class the model can predict has a name; <paramref name="source"/> names the map in the message.</summary>
    public void CheckClassCount(int classes, string source, string fix)
    {
        if (Labels is not null && Labels.Count < classes)
            throw new UserInputException(
                $"{source}: names {Labels.Count} classes but the model predicts {classes}; {fix}");
    }

    /// <summary>The top-k of one image's probabilities.</summary>
    public ClassResult Apply(ReadOnlySpan<float> probabilities, string fileName)
    {
        int k = Math.Min(Topk, probabilities.Length);
        var order = new int[probabilities.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var probs = probabilities.ToArray();
        // Descending; ties take the higher index first, as numpy's argsort()[-k:][::-1] does.
        Array.Sort(order, (a, b) => probs[b] != probs[a] ? probs[b].CompareTo(probs[a]) : b.CompareTo(a));
        var ids = order.Take(k).ToArray();
        var scores = ids.Select(i => Math.Round(probs[i] * 1e5, MidpointRounding.ToEven) / 1e5).ToArray();
        var names = Labels is null ? [] : ids.Select(i => i < Labels.Count ? Labels[i] : "").ToArray();
        return new ClassResult(ids, scores, fileName, names);
    }

    /// <summary>
    /// Reads a PaddleClas label map (`0 tench`, one line a class, id then name after the first
    /// delimiter). Ids must be 0 .. n-1 in any order; the message names the file and line.
    /// </summary>
    public static IReadOnlyList<string> ReadLabelMap(string path, string keyPath, string delimiter = " ")
    {
        if (!File.Exists(path))
            throw new UserInputException($"{keyPath}: label map '{path}' not found; point it at an 'id name' file such as dataset/demo/label_list.txt");
        var names = new Dictionary<int, string>();
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(path, Encoding.UTF8))
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
