using Ppcls.Core.Reporting;

namespace Ppcls.Core.Checkpoint;

/// <summary>Where a run stands, saved beside its weights so `Global.checkpoints` resumes exactly.</summary>
/// <param name="Epoch">The last completed epoch (1-based; 0 before the first).</param>
/// <param name="GlobalStep">Iterations done, which places the LR schedule.</param>
/// <param name="BestMetric">The model's best primary eval metric so far (PaddleClas's `best metric`: top1, recall1, or the loss without a metric); null before any eval.</param>
/// <param name="BestEpoch">The epoch `best_model` was saved at.</param>
/// <param name="EvalsWithoutImprovement">Consecutive evals that did not save `best_model` (early stopping).</param>
/// <param name="History">Every completed epoch's losses, LR and eval top-1 (null in states saved before it was kept).</param>
/// <param name="BestMetricEma">With EMA: the EMA model's best primary metric (PaddleClas's `best metric ema`).</param>
public sealed record TrainingState(
    string ArchName,
    int ClassNum,
    int Epoch,
    long GlobalStep,
    double? BestMetric,
    int BestEpoch,
    int EvalsWithoutImprovement,
    IReadOnlyList<EpochRecord>? History = null,
    double? BestMetricEma = null)
{
    /// <summary>A run before its first epoch.</summary>
    public static TrainingState Fresh(string archName, int classNum) => new(archName, classNum, 0, 0, null, 0, 0);

    /// <summary>States written before the best metric was nullable kept -1 until the first eval.</summary>
    public TrainingState WithoutLegacyBest() => BestEpoch == 0 ? this with { BestMetric = null, BestMetricEma = null } : this;
}
