using System.Text.RegularExpressions;

namespace Ppcls.Models.Swin;

/// <summary>
/// timm's `swin_transformer.py` names to PaddleClas's. Recent timm (a `head.fc.weight` in the file)
/// puts each patch merging at the START of the next stage (`layers.N.downsample` is PaddleClas's
/// `layers.N-1.downsample`) and the classifier in `head.fc`; older timm and the original Microsoft
/// files use PaddleClas's names already. Their derived buffers (`relative_position_index`,
/// `attn_mask`) are rebuilt by the model and ignored when loading.
/// </summary>
public static partial class TimmSwinNames
{
    public static string ToPaddleClas(string name, IReadOnlySet<string> fileNames)
    {
        if (!fileNames.Contains("head.fc.weight")) return name;
        if (name.StartsWith("head.fc.", StringComparison.Ordinal)) return "head." + name["head.fc.".Length..];
        return Downsample().Replace(name, m => $"layers.{int.Parse(m.Groups[1].Value) - 1}.downsample.");
    }

    /// <summary>The inverse for recent timm (tests write timm-named files with it).</summary>
    public static string ToTimm(string name)
    {
        if (name.StartsWith("head.", StringComparison.Ordinal)) return "head.fc." + name["head.".Length..];
        return Downsample().Replace(name, m => $"layers.{int.Parse(m.Groups[1].Value) + 1}.downsample.");
    }

    [GeneratedRegex(@"^layers\.(\d+)\.downsample\.")]
    private static partial Regex Downsample();
}
