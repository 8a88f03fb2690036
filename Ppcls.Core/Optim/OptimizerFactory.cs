using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Optim;

/// <summary>
/// Builds the optimizer PaddleClas would from the <c>Optimizer</c> section. Update rules
/// match Paddle's:
/// <list type="bullet">
/// <item>Momentum: v = momentum * v + (g + coeff * p); p -= lr * v (Nesterov:
/// p -= lr * (g' + momentum * v)). torch's SGD with momentum and dampening 0 is the same
/// (its first buffer is g, equal to 0 * momentum + g), so it is used.</item>
/// <item>SGD: p -= lr * (g + coeff * p).</item>
/// <item>Adam: coupled L2; Paddle's lr_t / (sqrt(m2) + eps sqrt(1 - b2^t)) form equals
/// torch's bias-corrected form.</item>
/// <item>AdamW: p *= 1 - lr * coeff, then Adam (decay uses the group's rate, so LR
/// multipliers scale it too, as in Paddle).</item>
/// <item>RMSProp: Paddle's form (<see cref="PaddleRmsProp"/>): epsilon inside the square
/// root and the rate folded into the momentum buffer, unlike torch's RMSprop.</item>
/// </list>
/// </summary>
public static class OptimizerFactory
{
    // Paddle's defaults where a config leaves epsilon out (momentum: 0.9 for Momentum, as
    // PaddleClas configs always give it; 0 for RMSProp).
    const double AdamEpsilon = 1e-8;
    const double RmsPropEpsilon = 1e-6;

    /// <summary>Builds the torch optimizer over the planned groups (<paramref name="lr"/> gives each group's first rate) and its param groups.</summary>
    internal delegate (optim.Optimizer Inner, IReadOnlyList<ParamGroup> Groups) Builder(
        IReadOnlyList<ParameterGroupSpec> groups, Func<ParameterGroupSpec, double> lr, OptimizerConfig config);

    /// <summary>The optimizers by their PaddleClas names; <see cref="OptimizerConfig.Read"/> checks the name against it.</summary>
    internal static NameTable<Builder> Optimizers { get; } = CreateTable();

    static NameTable<Builder> CreateTable()
    {
        var t = new NameTable<Builder>("optimizer");
        t.Register("Momentum", (g, lr, c) => Sgd(g, lr, c.Momentum ?? 0.9, c.UseNesterov));
        t.Register("SGD", (g, lr, _) => Sgd(g, lr, 0.0, false));
        t.Register("Adam", Adam);
        t.Register("AdamW", AdamW);
        t.Register("RMSProp", RmsProp);
        return t;
    }

    /// <summary>For a model: its named parameters, and its LR multipliers when it declares them.</summary>
    public static TrainingOptimizer Build(OptimizerConfig config, nn.Module model, double initialLearningRate, Action<string> notice) =>
        Build(config, model.named_parameters(), model as ILearningRateMultipliers, initialLearningRate, notice);

    /// <param name="config">The typed <c>Optimizer</c> section.</param>
    /// <param name="namedParameters">The model's <c>named_parameters()</c> (frozen ones are skipped).</param>
    /// <param name="multipliers">The model's per-parameter LR multipliers, when it declares them.</param>
    /// <param name="initialLearningRate">The schedule's first rate (usually <see cref="LearningRateSchedule.Current"/>).</param>
    public static TrainingOptimizer Build(
        OptimizerConfig config,
        IEnumerable<(string Name, Parameter Parameter)> namedParameters,
        ILearningRateMultipliers? multipliers,
        double initialLearningRate,
        Action<string> notice)
    {
        var rule = WeightDecayRule.From(config, notice);
        var groups = ParameterGrouping.Plan(namedParameters, rule, multipliers?.LearningRateMultipliers());
        if (groups.Count == 0) throw new InvalidOperationException("the model has no trainable parameters to optimize");
        double Lr(ParameterGroupSpec g) => initialLearningRate * g.LearningRateMultiplier;

        var built = Optimizers.Get(config.Name, "Optimizer.name")(groups, Lr, config);
        var optimizer = new TrainingOptimizer(config.Name, built.Inner, groups, built.Groups, config.ClipNorm);
        optimizer.SetLearningRate(initialLearningRate);
        return optimizer;
    }

    static (optim.Optimizer, IReadOnlyList<ParamGroup>) Sgd(IReadOnlyList<ParameterGroupSpec> specs, Func<ParameterGroupSpec, double> lr, double momentum, bool nesterov)
    {
        var groups = specs.Select(g => new SGD.ParamGroup(g.Parameters, new SGD.Options
        {
            LearningRate = lr(g), momentum = momentum, dampening = 0, weight_decay = g.WeightDecay, nesterov = nesterov, maximize = false,
        })).ToList();
        return (optim.SGD(groups, lr(specs[0]), momentum, 0, 0, nesterov), groups);
    }

    static (optim.Optimizer, IReadOnlyList<ParamGroup>) Adam(IReadOnlyList<ParameterGroupSpec> specs, Func<ParameterGroupSpec, double> lr, OptimizerConfig c)
    {
        var groups = specs.Select(g => new TorchSharp.Modules.Adam.ParamGroup(g.Parameters, new TorchSharp.Modules.Adam.Options
        {
            LearningRate = lr(g), beta1 = c.Beta1, beta2 = c.Beta2, eps = c.Epsilon ?? AdamEpsilon, weight_decay = g.WeightDecay, amsgrad = false, maximize = false,
        })).ToList();
        return (optim.Adam(groups, lr(specs[0]), c.Beta1, c.Beta2, c.Epsilon ?? AdamEpsilon), groups);
    }

    static (optim.Optimizer, IReadOnlyList<ParamGroup>) AdamW(IReadOnlyList<ParameterGroupSpec> specs, Func<ParameterGroupSpec, double> lr, OptimizerConfig c)
    {
        var groups = specs.Select(g => new TorchSharp.Modules.AdamW.ParamGroup(g.Parameters, new TorchSharp.Modules.AdamW.Options
        {
            LearningRate = lr(g), beta1 = c.Beta1, beta2 = c.Beta2, eps = c.Epsilon ?? AdamEpsilon, weight_decay = g.WeightDecay, amsgrad = false, maximize = false,
        })).ToList();
        return (optim.AdamW(groups, lr(specs[0]), c.Beta1, c.Beta2, c.Epsilon ?? AdamEpsilon), groups);
    }

    static (optim.Optimizer, IReadOnlyList<ParamGroup>) RmsProp(IReadOnlyList<ParameterGroupSpec> specs, Func<ParameterGroupSpec, double> lr, OptimizerConfig c)
    {
        var groups = specs.Select(g => new RMSProp.ParamGroup(g.Parameters, new RMSProp.Options
        {
            LearningRate = lr(g), alpha = c.Rho, eps = c.Epsilon ?? RmsPropEpsilon, weight_decay = g.WeightDecay, momentum = c.Momentum ?? 0.0, centered = false, maximize = false,
        })).ToList();
        return (new PaddleRmsProp(groups, lr(specs[0])), groups);
    }
}
