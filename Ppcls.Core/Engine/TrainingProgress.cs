using System.Diagnostics;

namespace Ppcls.Core.Engine;

/// <summary>Which loop raised a progress event.</summary>
public enum RunPhase
{
    Train,
    Eval,
}

/// <summary>
/// Where one iteration's time went, in <see cref="Stopwatch"/> ticks, measured inside the
/// engine's own step. The parts are disjoint intervals of the step, so they never add up to
/// more than <see cref="Total"/>; <see cref="Overhead"/> is the rest: moving the batch, reading
/// loss values, metrics, meters, logging and freeing the step's tensors.
/// </summary>
/// <param name="Reader">Waiting for the loader to hand over the batch.</param>
/// <param name="Forward">Model forward and loss.</param>
/// <param name="Backward">Backward pass (0 in eval).</param>
/// <param name="Optimizer">Optimizer step, zeroing gradients, LR schedule and EMA (0 in eval and on accumulating iterations).</param>
/// <param name="Total">The whole iteration, from asking for the batch to the end of its bookkeeping.</param>
public readonly record struct StepTiming(long Reader, long Forward, long Backward, long Optimizer, long Total)
{
    public long Overhead => Total - Reader - Forward - Backward - Optimizer;

    public static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

/// <summary>An epoch of training or evaluation begins (<paramref name="Epochs"/> is 0 for a standalone eval).</summary>
public sealed record EpochStarted(RunPhase Phase, int Epoch, int Epochs, int Iterations);

/// <summary>
/// One iteration finished: <paramref name="Iteration"/> is 0-based; <paramref name="Loss"/> the
/// batch's total loss (null without a loss); <paramref name="SamplesPerSecond"/> from the smoothed
/// step time; <paramref name="Eta"/> the run's remaining time as PaddleClas's `eta` counts it
/// (the rest of the epoch for eval).
/// </summary>
public sealed record IterationFinished(RunPhase Phase, int Epoch, int Iteration, int Iterations, int BatchSize,
    double? Loss, double SamplesPerSecond, TimeSpan Eta, StepTiming Timing);

/// <summary>An epoch ended, with its sample-weighted averages (losses, metrics).</summary>
public sealed record EpochFinished(RunPhase Phase, int Epoch, IReadOnlyDictionary<string, double> Averages);

/// <summary>
/// Receives the engine's progress as it runs (a progress bar, a benchmark's timing collector).
/// Called on the training thread, between steps and outside the step's timing; keep it quick.
/// The PaddleClas log lines are written whether or not an observer is attached.
/// </summary>
public interface ITrainingObserver
{
    void OnEpochStarted(EpochStarted epoch);

    void OnIterationFinished(IterationFinished iteration);

    void OnEpochFinished(EpochFinished epoch);
}
