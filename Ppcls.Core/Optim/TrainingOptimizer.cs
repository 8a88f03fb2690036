using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Optim;

/// <summary>
/// A TorchSharp optimizer with PaddleClas parameter groups: each group trains at
/// (schedule rate x its multiplier) with its own decay. The engine calls
/// <see cref="SetLearningRate"/> with the schedule's rate before each step, then
/// <see cref="Step"/> (which clips gradients first when <c>clip_norm</c> is set).
/// </summary>
public sealed class TrainingOptimizer : IDisposable
{
    readonly IReadOnlyList<ParamGroup> _torchGroups;

    internal TrainingOptimizer(string name, optim.Optimizer inner, IReadOnlyList<ParameterGroupSpec> groups,
        IReadOnlyList<ParamGroup> torchGroups, double? clipNorm)
    {
        Name = name;
        Inner = inner;
        Groups = groups;
        _torchGroups = torchGroups;
        ClipNorm = clipNorm;
    }

    /// <summary>The PaddleClas optimizer name (Momentum, SGD, Adam, AdamW, RMSProp).</summary>
    public string Name { get; }
    /// <summary>The TorchSharp optimizer (its state dict holds the moments for checkpoints).</summary>
    public optim.Optimizer Inner { get; }
    public IReadOnlyList<ParameterGroupSpec> Groups { get; }
    /// <summary>PaddleClas <c>clip_norm</c>: per-gradient norm clipping before each step.</summary>
    public double? ClipNorm { get; }

    /// <summary>The rate last given to <see cref="SetLearningRate"/> (the schedule's, before multipliers).</summary>
    public double BaseLearningRate { get; private set; }

    /// <summary>Sets every group's rate to <paramref name="baseLr"/> x the group's multiplier.</summary>
    public void SetLearningRate(double baseLr)
    {
        BaseLearningRate = baseLr;
        for (int i = 0; i < _torchGroups.Count; i++)
            _torchGroups[i].LearningRate = baseLr * Groups[i].LearningRateMultiplier;
    }

    /// <summary>The learning rate each group runs at now.</summary>
    public IReadOnlyList<double> GroupLearningRates => _torchGroups.Select(g => g.LearningRate).ToList();

    public void ZeroGrad() => Inner.zero_grad();

    public void Step()
    {
        if (ClipNorm is { } clip) GradientClipping.ClipEachByNorm(Groups.SelectMany(g => g.Parameters), clip);
        using var scope = NewDisposeScope();
        Inner.step();
    }

    public void Dispose() => Inner.Dispose();
}
