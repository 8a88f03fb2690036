namespace Ppcls.Models.Layers;

/// <summary>
/// A conv's stride over height and width. PaddleClas accepts either one number or an `[h, w]` pair
/// wherever a family takes a stride (PULC's text-line models use `[2, 1]`: halve the height, keep
/// the width); a plain number converts to the square stride.
/// </summary>
public readonly record struct Stride2d(long Height, long Width)
{
    public static implicit operator Stride2d(long both) => new(both, both);

    public (long, long) AsTuple => (Height, Width);

    public override string ToString() => Height == Width ? $"{Height}" : $"[{Height}, {Width}]";
}
