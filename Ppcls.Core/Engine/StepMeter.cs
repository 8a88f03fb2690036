using System.Diagnostics;

namespace Ppcls.Core.Engine;

/// <summary>
/// The clock of a loop over batches, shared by the train and eval steps: where each step's time
/// went (<see cref="StepTiming"/>), PaddleClas's `batch_cost` / `reader_cost` averaged over the
/// steps since the last log line, and a smoothed step time for `ips` and `eta`. A step runs from
/// asking the loader for its batch to the end of its bookkeeping.
/// </summary>
public sealed class StepMeter
{
    readonly Stopwatch _step = Stopwatch.StartNew();
    long _reader, _forward, _backward, _optimizer, _partStart;
    double _windowSeconds, _windowReaderSeconds;
    int _windowSteps;

    /// <summary>Step seconds smoothed over the recent steps (0 before the first).</summary>
    public double MeanStepSeconds { get; private set; }

    /// <summary>The loader handed the batch over: the time until now was spent waiting for it.</summary>
    public void BatchReady()
    {
        _reader = _step.ElapsedTicks;
        _forward = _backward = _optimizer = 0;
    }

    /// <summary>A timed part of the step (forward, backward, optimizer) begins.</summary>
    public void BeginPart() => _partStart = _step.ElapsedTicks;

    public void EndForward() => _forward = _step.ElapsedTicks - _partStart;
    public void EndBackward() => _backward = _step.ElapsedTicks - _partStart;
    public void EndOptimizer() => _optimizer = _step.ElapsedTicks - _partStart;

    /// <summary>The step's work is done: its time joins the log window and the smoothed step time.</summary>
    public void StepDone()
    {
        double seconds = _step.Elapsed.TotalSeconds;
        _windowSeconds += seconds;
        _windowReaderSeconds += _reader / (double)Stopwatch.Frequency;
        _windowSteps++;
        MeanStepSeconds = MeanStepSeconds == 0 ? seconds : 0.9 * MeanStepSeconds + 0.1 * seconds;
    }

    /// <summary>The step's bookkeeping (log lines included) is done too: its timing; the clock restarts for the next batch.</summary>
    public StepTiming EndStep()
    {
        var timing = new StepTiming(_reader, _forward, _backward, _optimizer, _step.ElapsedTicks);
        _step.Restart();
        return timing;
    }

    /// <summary>Mean step and reader seconds over the steps since the last call (what a log line prints); starts a new window.</summary>
    public (double BatchCost, double ReaderCost) TakeWindow()
    {
        int steps = Math.Max(1, _windowSteps);
        var costs = (_windowSeconds / steps, _windowReaderSeconds / steps);
        _windowSeconds = _windowReaderSeconds = 0;
        _windowSteps = 0;
        return costs;
    }

    public double SamplesPerSecond(int batchSize) => MeanStepSeconds > 0 ? batchSize / MeanStepSeconds : 0;

    public TimeSpan Eta(long remainingSteps) => TimeSpan.FromSeconds(Math.Max(0, remainingSteps) * MeanStepSeconds);
}
