using Ppcls.Core.Config;

namespace Ppcls.Data.BatchOps;

/// <summary>
/// `OpSampler`: `{MixupOperator: {alpha: 0.8, prob: 0.5}, CutmixOperator: {alpha: 1.0, prob: 0.5}}`
/// picks one op per batch with the given probabilities (summing to at most 1; the rest applies none).
/// </summary>
public sealed class OpSampler(IReadOnlyList<(IBatchOp Op, double Prob)> ops) : IBatchOp
{
    public string Name => "OpSampler";

    public static OpSampler Create(ConfigSection s, DataBuildContext context)
    {
        var ops = new List<(IBatchOp, double)>();
        foreach (var name in s.Map.Keys.ToList())
        {
            var options = s.OptionalSection(name) ?? new ConfigSection(new ConfigMap(), s.KeyPath(name));
            double prob = options.Double("prob", 0);
            if (!options.Has("prob")) context.Notice($"{options.Path}.prob is not set; the op's probability is 0");
            if (name == "OpSampler") throw ConfigException.At(options.Path, options.Location, "OpSampler cannot nest itself");
            var op = context.Registry.BatchOps.Get(name, options.Path, options.Location)(options, context);
            options.Finish(context.Notice);
            ops.Add((op, prob));
        }
        double total = ops.Sum(o => o.Item2);
        if (total > 1 + 1e-9) throw ConfigException.At(s.Path, s.Location, $"the probabilities add up to {total}; they must not exceed 1");
        return new OpSampler(ops);
    }

    public void Apply(MixBatch batch, Random rng)
    {
        double u = rng.NextDouble(), cumulative = 0;
        foreach (var (op, prob) in ops)
        {
            cumulative += prob;
            if (u < cumulative)
            {
                op.Apply(batch, rng);
                return;
            }
        }
    }
}
