using Ppcls.Core.Reporting;

namespace Ppcls.Core.Checkpoint;

/// <summary>Where a run stands, saved beside its weights so `Global.checkpoints` resumes exactly.</summary>
/// <param name="Epoch">The last completed epoch (1-based; 0 before the first).</param>
/// <param name="GlobalStep">Iterations done, which places the LR schedule.</param>
/// <param name="BestMetric">Best eval metric so far (top-1), or -1 before any eval.</param>
/// <param name="BestEpoch">The epoch that reached <paramref name="BestMetric"/>.</param>
/// <param name="EvalsWithoutImprovement">Consecutive evals without a better metric (early stopping).</param>
/// <param name="History">Every completed epoch's losses, LR and eval top-1 (null in states saved before it was kept).</param>
public sealed record TrainingState(
    string ArchName,
    int ClassNum,
    int Epoch,
    long GlobalStep,
    double BestMetric,
    int BestEpoch,
    int EvalsWithoutImprovement,
    IReadOnlyList<EpochRecord>? History = null);
