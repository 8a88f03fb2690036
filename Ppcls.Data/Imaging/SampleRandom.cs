namespace Ppcls.Data.Imaging;

/// <summary>
/// Deterministic random streams: each sample's ops draw from a generator derived from
/// (seed, epoch, sample index), each batch op from (seed, epoch, batch index), so results do
/// not depend on which worker thread ran what, or when.
/// </summary>
public static class SampleRandom
{
    public const long SampleStream = 0x5A3B;
    public const long BatchStream = 0xB47C;
    public const long ShuffleStream = 0x5F1E;

    public static Random For(long seed, long stream, long epoch, long index) => new(Seed(seed, stream, epoch, index));

    public static int Seed(long seed, long stream, long epoch, long index)
    {
        ulong h = Mix((ulong)seed);
        h = Mix(h ^ (ulong)stream);
        h = Mix(h ^ (ulong)epoch);
        h = Mix(h ^ (ulong)index);
        return (int)(h & 0x7FFFFFFF);
    }

    static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Python's random.uniform(a, b).</summary>
    public static double Uniform(this Random rng, double a, double b) => a + (b - a) * rng.NextDouble();

    /// <summary>Python's random.randint(a, b): both ends included.</summary>
    public static int RandInt(this Random rng, int a, int b) => rng.Next(a, b + 1);

    /// <summary>A standard normal draw (Box-Muller).</summary>
    public static double Normal(this Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>A Gamma(shape, 1) draw (Marsaglia-Tsang).</summary>
    public static double Gamma(this Random rng, double shape)
    {
        if (shape < 1) return rng.Gamma(shape + 1) * Math.Pow(rng.NextDouble(), 1.0 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = rng.Normal();
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = rng.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>A Beta(a, b) draw, as numpy's random.beta.</summary>
    public static double Beta(this Random rng, double a, double b)
    {
        double x = rng.Gamma(a), y = rng.Gamma(b);
        return x / (x + y);
    }

    /// <summary>A random permutation of 0..n-1 (Fisher-Yates).</summary>
    public static int[] Permutation(this Random rng, int n)
    {
        var p = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
