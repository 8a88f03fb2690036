namespace Ppcls.Models.Layers;

/// <summary>Channel-count rounding shared by the PP-LCNet families.</summary>
public static class ChannelRounding
{
    /// <summary>
    /// PaddleClas's `make_divisible`: round <paramref name="value"/> to the nearest multiple of
    /// <paramref name="divisor"/> (halves up), at least <paramref name="minValue"/> (default: the
    /// divisor), and one divisor more where rounding lost over 10%.
    /// </summary>
    public static int MakeDivisible(double value, int divisor = 8, int? minValue = null)
    {
        int min = minValue ?? divisor;
        int rounded = Math.Max(min, (int)(value + divisor / 2.0) / divisor * divisor);
        if (rounded < 0.9 * value) rounded += divisor;
        return rounded;
    }
}
