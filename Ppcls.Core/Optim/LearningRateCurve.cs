namespace Ppcls.Core.Optim;

/// <summary>
/// A pure learning-rate curve: the rate after <c>step</c> scheduler steps (Paddle's
/// <c>last_epoch</c>), where a step is one iteration or, with <c>by_epoch</c>, one epoch.
/// The curves mirror <c>paddle.optimizer.lr</c>'s schedulers in closed form.
/// </summary>
public abstract class LearningRateCurve
{
    public abstract double At(long step);
}

/// <summary>Paddle <c>Constant</c>: the same rate at every step.</summary>
public sealed class ConstantCurve(double learningRate) : LearningRateCurve
{
    public double LearningRate { get; } = learningRate;
    public override double At(long step) => LearningRate;
}

/// <summary>
/// Paddle <c>LinearWarmup</c>: below <c>warmupSteps</c> the rate rises linearly from
/// <c>startLr</c> to <c>endLr</c>; from then on the inner curve runs, shifted so that its
/// step 0 is the first step after warm-up (its boundaries and milestones move too).
/// </summary>
public sealed class LinearWarmupCurve(LearningRateCurve inner, long warmupSteps, double startLr, double endLr) : LearningRateCurve
{
    public LearningRateCurve Inner { get; } = inner;
    public long WarmupSteps { get; } = warmupSteps;

    public override double At(long step) => step < WarmupSteps
        ? (endLr - startLr) * step / WarmupSteps + startLr
        : Inner.At(step - WarmupSteps);
}
