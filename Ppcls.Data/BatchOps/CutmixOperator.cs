using Ppcls.Data.Imaging;

namespace Ppcls.Data.BatchOps;

/// <summary>
/// `CutmixOperator`: lam ~ Beta(`alpha`, `alpha`); a box of side fractions sqrt(1 - lam) around a
/// uniform centre, clipped to the image, is pasted from a random partner; lam becomes
/// 1 - box area / image area and targets mix as in mixup.
/// </summary>
public sealed class CutmixOperator(double alpha) : IBatchOp
{
    public string Name => "CutmixOperator";

    public static CutmixOperator Create(Ppcls.Core.Config.ConfigSection s) => new(MixupOperator.ReadAlpha(s, 0.2));

    /// <summary>Rows [Top, Bottom) and columns [Left, Right) of the pasted box.</summary>
    public static (int Top, int Left, int Bottom, int Right) Box(int height, int width, double lam, Random rng)
    {
        double cut = Math.Sqrt(1 - lam);
        int cutH = (int)(height * cut), cutW = (int)(width * cut);
        int cy = rng.Next(height), cx = rng.Next(width);
        return (Math.Clamp(cy - cutH / 2, 0, height), Math.Clamp(cx - cutW / 2, 0, width),
            Math.Clamp(cy + cutH / 2, 0, height), Math.Clamp(cx + cutW / 2, 0, width));
    }

    public void Apply(MixBatch batch, Random rng)
    {
        var partner = rng.Permutation(batch.Count);
        double lam = rng.Beta(alpha, alpha);
        var (top, left, bottom, right) = Box(batch.Height, batch.Width, lam, rng);
        var original = batch.Images.ToArray();
        int len = batch.ImageLength, plane = batch.Height * batch.Width;
        for (int i = 0; i < batch.Count; i++)
            for (int c = 0; c < batch.Channels; c++)
                for (int y = top; y < bottom; y++)
                {
                    int offset = c * plane + y * batch.Width;
                    original.AsSpan(partner[i] * len + offset + left, right - left)
                        .CopyTo(batch.Images.Span.Slice(i * len + offset + left, right - left));
                }
        lam = 1 - (double)(bottom - top) * (right - left) / plane;
        batch.MixLabels(partner, lam);
    }
}
