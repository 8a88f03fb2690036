namespace Ppcls.Core.Optim;

/// <summary>Paddle <c>CosineAnnealingDecay</c>: eta_min + (lr - eta_min) (1 + cos(pi t / T_max)) / 2.</summary>
public sealed class CosineAnnealingCurve(double learningRate, long tMax, double etaMin) : LearningRateCurve
{
    public override double At(long step) =>
        etaMin + (learningRate - etaMin) * (1 + Math.Cos(Math.PI * step / tMax)) / 2;
}

/// <summary>
/// Paddle <c>PolynomialDecay</c>: (lr - end_lr) (1 - t / decay_steps)^power + end_lr, with t
/// capped at decay_steps, or with <c>cycle</c> the period stretched to the next multiple.
/// </summary>
public sealed class PolynomialDecayCurve(double learningRate, long decaySteps, double endLr, double power, bool cycle) : LearningRateCurve
{
    public override double At(long step)
    {
        double t = step, steps = decaySteps;
        if (cycle)
        {
            double div = step == 0 ? 1 : Math.Ceiling(step / (double)decaySteps);
            steps = decaySteps * div;
        }
        else t = Math.Min(step, decaySteps);
        return (learningRate - endLr) * Math.Pow(1 - t / steps, power) + endLr;
    }
}

/// <summary>Paddle <c>StepDecay</c>: lr * gamma^(t / step_size) (integer division).</summary>
public sealed class StepDecayCurve(double learningRate, long stepSize, double gamma) : LearningRateCurve
{
    public override double At(long step) => learningRate * Math.Pow(gamma, step / stepSize);
}

/// <summary>Paddle <c>MultiStepDecay</c>: lr * gamma^(number of milestones &lt;= t).</summary>
public sealed class MultiStepDecayCurve(double learningRate, IReadOnlyList<long> milestones, double gamma) : LearningRateCurve
{
    public override double At(long step) => learningRate * Math.Pow(gamma, milestones.Count(m => m <= step));
}

/// <summary>Paddle <c>PiecewiseDecay</c>: values[i] for the first boundary i with t &lt; boundaries[i], else the last value.</summary>
public sealed class PiecewiseCurve(IReadOnlyList<long> boundaries, IReadOnlyList<double> values) : LearningRateCurve
{
    public override double At(long step)
    {
        for (int i = 0; i < boundaries.Count; i++)
            if (step < boundaries[i]) return values[i];
        return values[^1];
    }
}
