using Ppcls.Models.Layers;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>Paddle's initialisers draw what they name.</summary>
public sealed class PaddleInitTests
{
    // The truncated normal's moments, (phi(al) - phi(be)) / Z and 1 + (al phi(al) - be phi(be)) / Z - that^2,
    // with al, be the cut points in standard units and Z = Phi(be) - Phi(al): Swin's std 0.02 cut at +-2 std,
    // and a cut that is not symmetric about a non-zero mean (a draw that swaps mean and std fails both).
    [TestCase(0.0, 0.02, -0.04, 0.04, 0.0, 0.0175925)]
    [TestCase(1.0, 0.5, 0.0, 3.0, 1.0275564, 0.4706154)]
    public void TruncatedNormal_draws_a_normal_cut_at_the_absolute_bounds(double mean, double std, double a, double b, double expectedMean, double expectedStd)
    {
        manual_seed(3);
        using var t = empty(200_000, dtype: float64);
        PaddleInit.TruncatedNormal(t, mean, std, a, b);

        Assert.That(t.min().item<double>(), Is.GreaterThanOrEqualTo(a).And.LessThan(a + std / 10));
        Assert.That(t.max().item<double>(), Is.LessThanOrEqualTo(b).And.GreaterThan(b - std));
        Assert.That(t.mean().item<double>(), Is.EqualTo(expectedMean).Within(std / 100));
        Assert.That(t.std().item<double>(), Is.EqualTo(expectedStd).Within(expectedStd / 100));
    }
}
