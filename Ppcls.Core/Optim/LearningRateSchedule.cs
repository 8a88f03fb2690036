namespace Ppcls.Core.Optim;

/// <summary>
/// A PaddleClas learning-rate schedule with its step counter (Paddle's <c>last_epoch</c>).
/// It starts at step 0 (the rate of the first iteration). PaddleClas steps it once after
/// every optimizer step, or once after every epoch when <see cref="ByEpoch"/> is set: call
/// <see cref="OnIterationEnd"/> after each optimizer step and <see cref="OnEpochEnd"/> after
/// each epoch, and it steps when it should. With <c>update_freq</c> (gradient
/// accumulation) an "iteration" here is an optimizer step: build the schedule with
/// iter_per_epoch / update_freq, as PaddleClas does.
/// For resume, save <see cref="LastStep"/> and give it back to <see cref="Restore"/>.
/// </summary>
public sealed class LearningRateSchedule
{
    public LearningRateSchedule(string name, LearningRateCurve curve, bool byEpoch, int itersPerEpoch)
    {
        if (itersPerEpoch < 1) throw new ArgumentOutOfRangeException(nameof(itersPerEpoch), itersPerEpoch, "must be at least 1");
        Name = name;
        Curve = curve;
        ByEpoch = byEpoch;
        ItersPerEpoch = itersPerEpoch;
    }

    /// <summary>The schedule's PaddleClas name (<c>Cosine</c>, <c>Piecewise</c>, ...).</summary>
    public string Name { get; }
    public LearningRateCurve Curve { get; }
    /// <summary>True: one step per epoch; false: one step per iteration.</summary>
    public bool ByEpoch { get; }
    public int ItersPerEpoch { get; }

    /// <summary>Steps taken so far (Paddle's <c>last_epoch</c>); 0 before training.</summary>
    public long LastStep { get; private set; }

    /// <summary>The learning rate to use now.</summary>
    public double Current => Curve.At(LastStep);

    /// <summary>The rate after <paramref name="step"/> steps, without moving the counter.</summary>
    public double At(long step) => Curve.At(step);

    /// <summary>The rate PaddleClas uses at a 0-based global optimizer step.</summary>
    public double AtIteration(long globalIteration) =>
        Curve.At(ByEpoch ? globalIteration / ItersPerEpoch : globalIteration);

    public void Step() => LastStep++;

    /// <summary>Call after every optimizer step; steps unless the schedule is by epoch.</summary>
    public void OnIterationEnd()
    {
        if (!ByEpoch) Step();
    }

    /// <summary>Call after every epoch; steps only a by-epoch schedule.</summary>
    public void OnEpochEnd()
    {
        if (ByEpoch) Step();
    }

    /// <summary>Resume from a checkpoint's <see cref="LastStep"/>.</summary>
    public void Restore(long lastStep)
    {
        if (lastStep < 0) throw new ArgumentOutOfRangeException(nameof(lastStep), lastStep, "must not be negative");
        LastStep = lastStep;
    }

    /// <summary>The step count after <paramref name="completedEpochs"/> whole epochs (resume from an epoch checkpoint).</summary>
    public long StepsAfterEpochs(int completedEpochs) => ByEpoch ? completedEpochs : (long)completedEpochs * ItersPerEpoch;
}
