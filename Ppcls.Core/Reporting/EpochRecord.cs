namespace Ppcls.Core.Reporting;

/// <summary>
/// One epoch of a training run, as the curves plot it: the mean train loss, the learning rate of
/// the epoch's last iteration, and the eval loss and top-1 when the epoch was evaluated.
/// Kept in the checkpoint state, so a resumed run's history has every epoch.
/// </summary>
public sealed record EpochRecord(int Epoch, double TrainLoss, double LearningRate, double? EvalLoss = null, double? EvalTop1 = null);
