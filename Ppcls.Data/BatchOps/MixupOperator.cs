using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.BatchOps;

/// <summary>
/// `MixupOperator`: lam ~ Beta(`alpha`, `alpha`), a random partner permutation p, images
/// lam * x + (1 - lam) * x[p], targets lam * onehot(y) + (1 - lam) * onehot(y[p]).
/// </summary>
public sealed class MixupOperator(double alpha) : IBatchOp
{
    public string Name => "MixupOperator";

    public static MixupOperator Create(ConfigSection s) => new(ReadAlpha(s, 1.0));

    internal static double ReadAlpha(ConfigSection s, double fallback)
    {
        double alpha = s.Double("alpha", fallback);
        if (alpha <= 0) throw ConfigException.At(s.KeyPath("alpha"), s.Map["alpha"]?.Location, $"must be greater than 0, got {alpha}");
        return alpha;
    }

    public void Apply(MixBatch batch, Random rng)
    {
        var partner = rng.Permutation(batch.Count);
        double lam = rng.Beta(alpha, alpha);
        var original = batch.Images.ToArray();
        int len = batch.ImageLength;
        float a = (float)lam, b = (float)(1 - lam);
        for (int i = 0; i < batch.Count; i++)
        {
            var dst = batch.Image(i);
            var src = original.AsSpan(partner[i] * len, len);
            for (int k = 0; k < len; k++) dst[k] = a * dst[k] + b * src[k];
        }
        batch.MixLabels(partner, lam);
    }
}
