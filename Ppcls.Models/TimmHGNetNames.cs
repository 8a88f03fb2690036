namespace Ppcls.Models;

/// <summary>
/// timm's `hgnet.py` state-dict names (hgnet_tiny/small/base, hgnetv2_b0..b6) to PaddleClas's.
/// timm keeps PaddleClas's module names except where it groups modules in Sequentials: the
/// v1 stem (`stem.stem.N` -> `stem.N`), each block's aggregation (`aggregation.0` / `.1` ->
/// `aggregation_conv` / `att` in v1, `aggregation_squeeze_conv` / `aggregation_excitation_conv`
/// in v2) and the head (`head.last_conv.0` -> `last_conv`, `head.last_conv.2` (LAB) -> `lab`,
/// `head.fc` -> `fc`). BN statistics are renamed before this map (see TorchKeyNames).
/// </summary>
public static class TimmHGNetNames
{
    public static string FromTimmV1(string name) => Map(name, "aggregation_conv", "att", v1Stem: true);

    public static string FromTimmV2(string name) => Map(name, "aggregation_squeeze_conv", "aggregation_excitation_conv", v1Stem: false);

    static string Map(string name, string aggregation0, string aggregation1, bool v1Stem)
    {
        if (name.StartsWith("head.fc.", StringComparison.Ordinal)) return name["head.".Length..];
        if (name.StartsWith("head.last_conv.0.", StringComparison.Ordinal)) return "last_conv." + name["head.last_conv.0.".Length..];
        if (name.StartsWith("head.last_conv.2.", StringComparison.Ordinal)) return "lab." + name["head.last_conv.2.".Length..];
        if (v1Stem && name.StartsWith("stem.stem.", StringComparison.Ordinal)) return name["stem.".Length..];
        name = name.Replace(".aggregation.0.", "." + aggregation0 + ".", StringComparison.Ordinal);
        return name.Replace(".aggregation.1.", "." + aggregation1 + ".", StringComparison.Ordinal);
    }
}
