using Ppcls.Core.Checkpoint;
using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
using Ppcls.Core.Loss;
using Ppcls.Core.Metric;
using Ppcls.Core.Optim;

namespace Ppcls.Core.Engine;

/// <summary>
/// Everything one training run is made of, built and validated from the config in one place
/// (<see cref="TrainingRunBuilder"/>) before any image is read, and fixed from then on. Owns the
/// loaders, the evaluator, the gradient sync and the optimizer (dispose it); the model belongs to
/// the session. Where the run stands as it goes is the trainer's <see cref="TrainingState"/>.
/// </summary>
public sealed class TrainingRun : IDisposable
{
    /// <summary>The loader of `DataLoader.Train`.</summary>
    public required IBatchSource TrainLoader { get; init; }
    /// <summary>The loader of `DataLoader.Eval` when the run evaluates during training (classification; a retrieval evaluator owns its own).</summary>
    public IBatchSource? EvalLoader { get; init; }
    public required CombinedLoss TrainLoss { get; init; }
    public MetricSet? TrainMetrics { get; init; }
    /// <summary>False for a list of images without labels: train metrics are skipped.</summary>
    public bool TrainLabelled { get; init; } = true;
    public required TrainingOptimizer Optimizer { get; init; }
    public required LearningRateSchedule Schedule { get; init; }
    public ModelEma? Ema { get; init; }
    /// <summary>Set when Arch.freeze_backbone is on.</summary>
    public BackboneFreeze? Freeze { get; init; }
    public IEvaluator? Evaluator { get; init; }
    /// <summary>Iterations per optimizer step (`Global.update_freq`, 1 when an epoch has fewer batches).</summary>
    public int UpdateFreq { get; init; } = 1;
    /// <summary>Iterations per epoch: the loader's batches, less the tail that <see cref="UpdateFreq"/> cannot use.</summary>
    public required int ItersPerEpoch { get; init; }
    public required long Seed { get; init; }
    /// <summary>Where the run starts: a fresh state, or the resumed checkpoint's.</summary>
    public required TrainingState Start { get; init; }
    /// <summary>Averages the gradients over the ranks before each optimizer step; null in a single process.</summary>
    public GradientAllReduce? GradientSync { get; init; }

    public void Dispose()
    {
        GradientSync?.Dispose();
        Optimizer.Dispose();
        (Evaluator as IDisposable)?.Dispose();
        EvalLoader?.Dispose();
        TrainLoader.Dispose();
    }
}
