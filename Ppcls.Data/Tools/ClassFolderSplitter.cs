using Ppcls.Core.IO;
using System.Text;
using Ppcls.Core;
using Ppcls.Data.Datasets;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Tools;

/// <summary>
/// `ppcls dataset split`: ROOT/&lt;class&gt;/*.jpg|jpeg|png|bmp|webp -> train_list.txt, val_list.txt
/// (`class/file label`) and label_list.txt (`id name`) in ROOT. Class ids follow the ordinal
/// order of the folder names; each class's files are shuffled with the seed and
/// round(n * val_ratio) of them go to val (at least one stays in train).
/// </summary>
public static class ClassFolderSplitter
{
    public sealed record Result(int Classes, int Train, int Val);

    public static Result Split(string root, double valRatio, long seed)
    {
        if (valRatio is < 0 or >= 1) throw new PpclsUserException($"--val-ratio must be in [0, 1), got {valRatio}");
        var perClass = ClassFolderTree.Scan(root, "dataset split");
        foreach (var c in perClass)
            if (c.Name.Any(char.IsWhiteSpace) || c.Files.Any(f => f.Any(char.IsWhiteSpace)))
                throw new PpclsUserException($"dataset split: '{c.Name}' has a folder or file name with spaces, which the space-separated list format cannot hold; rename it");

        var train = new StringBuilder();
        var val = new StringBuilder();
        var labels = new StringBuilder();
        int trainCount = 0, valCount = 0;
        for (int id = 0; id < perClass.Count; id++)
        {
            var (name, files) = perClass[id];
            labels.Append($"{id} {name}\n");
            var order = SampleRandom.For(seed, SampleRandom.ShuffleStream, 0, id).Permutation(files.Count);
            int nVal = (int)Math.Round(files.Count * valRatio, MidpointRounding.AwayFromZero);
            nVal = Math.Min(nVal, files.Count - 1);
            var valSet = order.Take(nVal).ToHashSet();
            for (int i = 0; i < files.Count; i++)
            {
                var line = $"{name}/{files[i]} {id}\n";
                if (valSet.Contains(i)) { val.Append(line); valCount++; }
                else { train.Append(line); trainCount++; }
            }
        }
        AtomicFile.WriteAllText(Path.Combine(root, "train_list.txt"), train.ToString());
        AtomicFile.WriteAllText(Path.Combine(root, "val_list.txt"), val.ToString());
        AtomicFile.WriteAllText(Path.Combine(root, "label_list.txt"), labels.ToString());
        return new Result(perClass.Count, trainCount, valCount);
    }
}
