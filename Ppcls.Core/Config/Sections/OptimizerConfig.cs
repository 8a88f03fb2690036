using Ppcls.Core.Optim;

namespace Ppcls.Core.Config.Sections;

/// <summary>`Optimizer.regularizer`: `{name: L2, coeff: 1e-5}`.</summary>
public sealed record RegularizerConfig(string Name, double Coeff);

/// <summary>`Optimizer`: the optimizer, its LR schedule (read by the schedule registry) and regularisation.</summary>
public sealed record OptimizerConfig
{
    public required string Name { get; init; }
    /// <summary>`momentum`; null where the config leaves it out (the optimizer's own default applies).</summary>
    public double? Momentum { get; init; }
    public bool UseNesterov { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    /// <summary>`epsilon`; null where the config leaves it out (Adam's 1e-8, RMSProp's 1e-6).</summary>
    public double? Epsilon { get; init; }
    public double Rho { get; init; } = 0.95;
    public double? WeightDecay { get; init; }
    public RegularizerConfig? Regularizer { get; init; }
    public IReadOnlyList<string> NoWeightDecayName { get; init; } = [];
    public bool OneDimParamNoWeightDecay { get; init; }
    public double? ClipNorm { get; init; }
    /// <summary>The `lr` mapping: `name` plus the schedule's own keys.</summary>
    public required ConfigSection Lr { get; init; }

    static readonly string[] PaddleOnlyKeys = ["multi_precision"];

    public static OptimizerConfig Read(ConfigSection s, Action<string> notice)
    {
        var regularizer = s.OptionalSection("regularizer");
        var lr = s.RequiredSection("lr", "{name: Cosine, learning_rate: 0.1}");
        lr.RequiredString("name", "Cosine");
        var config = new OptimizerConfig
        {
            Name = ReadName(s),
            Momentum = s.OptionalDouble("momentum"),
            UseNesterov = s.Bool("use_nesterov", false),
            Beta1 = s.Double("beta1", 0.9),
            Beta2 = s.Double("beta2", 0.999),
            Epsilon = s.OptionalDouble("epsilon"),
            Rho = s.Double("rho", 0.95),
            WeightDecay = s.OptionalDouble("weight_decay"),
            NoWeightDecayName = SplitNames(s.OptionalString("no_weight_decay_name")),
            OneDimParamNoWeightDecay = s.Bool("one_dim_param_no_weight_decay", false),
            ClipNorm = s.OptionalDouble("clip_norm") ?? s.OptionalDouble("clip_grad"),
            Regularizer = regularizer is null ? null : ReadRegularizer(regularizer, notice),
            Lr = lr,
        };
        s.Finish(notice, PaddleOnlyKeys);
        return config;
    }

    /// <summary>`name`, checked against the optimizer registry so that `--check` catches a misspelt one.</summary>
    static string ReadName(ConfigSection s)
    {
        string name = s.String("name", "Momentum");
        OptimizerFactory.Optimizers.Get(name, s.KeyPath("name"), s.Raw("name")?.Location ?? s.Location);
        return name;
    }

    /// <summary>PaddleClas writes `no_weight_decay_name: norm pos_embed` (space-separated).</summary>
    static IReadOnlyList<string> SplitNames(string? names) =>
        names?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];

    static RegularizerConfig ReadRegularizer(ConfigSection s, Action<string> notice)
    {
        var r = new RegularizerConfig(s.Choice("name", "L2", "L2", "L1"), s.RequiredDouble("coeff", "0.00004"));
        s.Finish(notice);
        return r;
    }
}
