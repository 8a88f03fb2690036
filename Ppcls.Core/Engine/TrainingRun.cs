using Ppcls.Core.Checkpoint;
using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
using Ppcls.Core.Loss;
using Ppcls.Core.Metric;
using Ppcls.Core.Optim;
using Ppcls.Core.Reporting;

namespace Ppcls.Core.Engine;

/// <summary>
/// The pieces <see cref="Trainer.Prepare"/> built from a config for one run, and where the run
/// stands. Owns the loaders and the optimizer (dispose it); the model belongs to the session.
/// </summary>
public sealed class TrainingRun : IDisposable
{
    internal TrainingRun() { }

    /// <summary>The loader of `DataLoader.Train`.</summary>
    public IBatchSource TrainLoader { get; internal set; } = null!;
    /// <summary>The loader of `DataLoader.Eval` when the run evaluates during training (classification; a retrieval evaluator owns its own).</summary>
    public IBatchSource? EvalLoader { get; internal set; }
    public CombinedLoss TrainLoss { get; internal set; } = null!;
    public MetricSet? TrainMetrics { get; internal set; }
    /// <summary>False for a list of images without labels: train metrics are skipped.</summary>
    public bool TrainLabelled { get; internal set; } = true;
    public TrainingOptimizer Optimizer { get; internal set; } = null!;
    public LearningRateSchedule Schedule { get; internal set; } = null!;
    public ModelEma? Ema { get; internal set; }
    /// <summary>Set when Arch.freeze_backbone is on.</summary>
    public BackboneFreeze? Freeze { get; internal set; }
    public IEvaluator? Evaluator { get; internal set; }
    /// <summary>Iterations per optimizer step (`Global.update_freq`, 1 when an epoch has fewer batches).</summary>
    public int UpdateFreq { get; internal set; } = 1;
    /// <summary>Iterations per epoch: the loader's batches, less the tail that <see cref="UpdateFreq"/> cannot use.</summary>
    public int ItersPerEpoch { get; internal set; }
    public long Seed { get; internal set; }
    public TrainingState State { get; internal set; } = null!;
    /// <summary>Averages the gradients over the ranks before each optimizer step; null in a single process.</summary>
    public GradientAllReduce? GradientSync { get; internal set; }
    /// <summary>The TensorBoard event file of a real run with `Global.use_tensorboard`.</summary>
    public TensorBoardWriter? Board { get; internal set; }

    public void Dispose()
    {
        Board?.Dispose();
        GradientSync?.Dispose();
        Optimizer?.Dispose();
        (Evaluator as IDisposable)?.Dispose();
        EvalLoader?.Dispose();
        TrainLoader?.Dispose();
    }
}
