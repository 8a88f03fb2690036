using System.Globalization;
using Ppcls.Core.Config;

namespace Ppcls.Core.Optim;

/// <summary>
/// Builds a <see cref="LearningRateSchedule"/> from the <c>Optimizer.lr</c> mapping the way
/// PaddleClas's <c>ppcls/optimizer/learning_rate.py</c> does, validating every key.
/// Warm-up (<c>warmup_epoch</c>, <c>warmup_start_lr</c>) wraps the decay in Paddle's
/// LinearWarmup, so the decay curve starts after warm-up (Piecewise boundaries and Step /
/// MultiStepDecay milestones move by the warm-up length, as in PaddleClas).
/// </summary>
public static class LearningRateScheduleFactory
{
    /// <summary>Reads the schedule's keys from the <c>Optimizer.lr</c> section and builds it.</summary>
    internal delegate LearningRateSchedule Builder(ConfigSection lr, ScheduleContext context);

    /// <summary>The schedules by their PaddleClas names (<c>Polynomial</c> is a Ppcls alias of <c>Linear</c>).</summary>
    internal static NameTable<Builder> Schedules { get; } = CreateTable();

    static NameTable<Builder> CreateTable()
    {
        var t = new NameTable<Builder>("learning-rate schedule");
        t.Register("Cosine", Cosine);
        t.Register("Linear", Polynomial);
        t.Register("Polynomial", Polynomial);
        t.Register("Step", StepDecay);
        t.Register("Piecewise", Piecewise);
        t.Register("MultiStepDecay", MultiStepDecay);
        t.Register("ConstLR", ConstLR);
        t.Register("Constant", Constant);
        return t;
    }

    /// <summary>PaddleClas keys that change nothing here (accepted with a notice).</summary>
    static readonly string[] PaddleOnlyKeys = ["last_epoch", "verbose"];

    /// <summary>The run's length, which the schedules' step counts derive from.</summary>
    internal sealed record ScheduleContext(int Epochs, int ItersPerEpoch, Action<string> Notice);

    /// <param name="lr">The <c>Optimizer.lr</c> section (its <c>name</c> picks the schedule).</param>
    /// <param name="epochs"><c>Global.epochs</c>.</param>
    /// <param name="itersPerEpoch">Optimizer steps per epoch: PaddleClas's step_each_epoch, iter_per_epoch / update_freq (integer division).</param>
    public static LearningRateSchedule Build(ConfigSection lr, int epochs, int itersPerEpoch, Action<string> notice)
    {
        if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "must be at least 1");
        if (itersPerEpoch < 1) throw new ArgumentOutOfRangeException(nameof(itersPerEpoch), itersPerEpoch, "must be at least 1");
        string name = lr.RequiredString("name", "Cosine");
        var build = Schedules.Get(name, lr.KeyPath("name"), lr.Raw("name")?.Location ?? lr.Location);
        var schedule = build(lr, new ScheduleContext(epochs, itersPerEpoch, notice));
        lr.Finish(notice, PaddleOnlyKeys);
        return schedule;
    }

    /// <summary>PaddleClas LRBase: warm-up settings, clamped to the run's length.</summary>
    sealed record Warmup(double Epochs, double StartLr, bool ByEpoch, long Steps);

    static Warmup ReadWarmup(ConfigSection lr, ScheduleContext c)
    {
        double warmupEpoch = lr.Double("warmup_epoch", 0);
        if (warmupEpoch < 0) throw Invalid(lr, "warmup_epoch", $"must not be negative, got {warmupEpoch}");
        if (warmupEpoch >= c.Epochs && warmupEpoch > 0)
        {
            c.Notice($"{lr.KeyPath("warmup_epoch")} ({warmupEpoch}) is not below Global.epochs ({c.Epochs}); warm-up set to {c.Epochs} epochs, as PaddleClas does");
            warmupEpoch = c.Epochs;
        }
        double startLr = lr.Double("warmup_start_lr", 0.0);
        bool byEpoch = lr.Bool("by_epoch", false);
        long steps = byEpoch ? (long)Math.Round(warmupEpoch) : (long)Math.Round(warmupEpoch * c.ItersPerEpoch, MidpointRounding.ToEven);
        return new Warmup(warmupEpoch, startLr, byEpoch, steps);
    }

    static LearningRateSchedule Finish(string name, LearningRateCurve decay, Warmup w, double peakLr, ScheduleContext c, long? warmupSteps = null)
    {
        long steps = warmupSteps ?? w.Steps;
        var curve = steps > 0 ? new LinearWarmupCurve(decay, steps, w.StartLr, peakLr) : decay;
        return new LearningRateSchedule(name, curve, w.ByEpoch, c.ItersPerEpoch);
    }

    static LearningRateSchedule Cosine(ConfigSection lr, ScheduleContext c)
    {
        double rate = RequiredRate(lr);
        double etaMin = lr.Double("eta_min", 0.0);
        var w = ReadWarmup(lr, c);
        long tMax = w.ByEpoch ? (long)(c.Epochs - w.Epochs) : (long)((c.Epochs - w.Epochs) * c.ItersPerEpoch);
        LearningRateCurve decay = tMax > 0 ? new CosineAnnealingCurve(rate, tMax, etaMin) : new ConstantCurve(rate);
        return Finish("Cosine", decay, w, rate, c);
    }

    /// <summary>PaddleClas <c>Linear</c> (PolynomialDecay; <c>Polynomial</c> is a Ppcls alias).</summary>
    static LearningRateSchedule Polynomial(ConfigSection lr, ScheduleContext c)
    {
        double rate = RequiredRate(lr);
        double endLr = lr.Double("end_lr", 0.0);
        double power = lr.Double("power", 1.0);
        bool cycle = lr.Bool("cycle", false);
        var w = ReadWarmup(lr, c);
        long decaySteps = w.ByEpoch ? (long)(c.Epochs - w.Epochs) : (long)((c.Epochs - w.Epochs) * c.ItersPerEpoch);
        LearningRateCurve decay = decaySteps > 0 ? new PolynomialDecayCurve(rate, decaySteps, endLr, power, cycle) : new ConstantCurve(rate);
        // PaddleClas's Linear counts warm-up in iterations even with by_epoch (a quirk kept as is).
        long warmupSteps = (long)Math.Round(w.Epochs * c.ItersPerEpoch, MidpointRounding.ToEven);
        return Finish(lr.String("name", "Linear"), decay, w, rate, c, warmupSteps);
    }

    static LearningRateSchedule StepDecay(ConfigSection lr, ScheduleContext c)
    {
        double rate = RequiredRate(lr);
        double stepSize = lr.RequiredDouble("step_size", "30");
        double gamma = lr.RequiredDouble("gamma", "0.1");
        var w = ReadWarmup(lr, c);
        long size = w.ByEpoch ? (long)stepSize : (long)(stepSize * c.ItersPerEpoch);
        if (size < 1) throw Invalid(lr, "step_size", $"gives a step of {size} scheduler steps; it must be at least 1");
        return Finish("Step", new StepDecayCurve(rate, size, gamma), w, rate, c);
    }

    static LearningRateSchedule MultiStepDecay(ConfigSection lr, ScheduleContext c)
    {
        double rate = RequiredRate(lr);
        var milestones = lr.OptionalIntList("milestones") ?? throw Invalid(lr, "milestones", "required key is missing; add it, e.g. milestones: [30, 60, 90]");
        double gamma = lr.Double("gamma", 0.1);
        if (milestones.Zip(milestones.Skip(1)).Any(p => p.First >= p.Second))
            throw Invalid(lr, "milestones", "must be increasing, e.g. [30, 60, 90]");
        var w = ReadWarmup(lr, c);
        var steps = milestones.Select(m => w.ByEpoch ? m : (long)m * c.ItersPerEpoch).ToList();
        return Finish("MultiStepDecay", new MultiStepDecayCurve(rate, steps, gamma), w, rate, c);
    }

    static LearningRateSchedule Piecewise(ConfigSection lr, ScheduleContext c)
    {
        double? rate = lr.OptionalDouble("learning_rate");
        IReadOnlyList<int>? decayEpochs = lr.OptionalIntList("decay_epochs");
        IReadOnlyList<double>? values = lr.OptionalDoubleList("values");
        if (rate is { } r && r != 0)
        {
            // PaddleClas: with learning_rate set, decay 10x every 30 epochs and ignore decay_epochs/values.
            var starts = Enumerable.Range(0, (c.Epochs + 29) / 30).Select(i => i * 30).ToList();
            var generated = starts.Select((_, i) => r * Math.Pow(0.1, i)).ToList();
            if (starts.Count == 1) { decayEpochs = [c.Epochs]; values = [generated[0], generated[0]]; }
            else { decayEpochs = starts.Skip(1).ToList(); values = generated; }
            c.Notice($"{lr.KeyPath("learning_rate")} is set, so Piecewise decays 10x every 30 epochs as PaddleClas does: decay_epochs {string.Join(", ", decayEpochs)}, values {string.Join(", ", values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))}");
        }
        if (decayEpochs is null) throw Invalid(lr, "decay_epochs", "required key is missing; add it, e.g. decay_epochs: [30, 60, 90]");
        if (values is null) throw Invalid(lr, "values", "required key is missing; add it, e.g. values: [0.1, 0.01, 0.001, 0.0001]");
        if (values.Count != decayEpochs.Count + 1)
            throw Invalid(lr, "values", $"needs one more item than decay_epochs ({decayEpochs.Count} boundaries -> {decayEpochs.Count + 1} values), got {values.Count}");
        var w = ReadWarmup(lr, c);
        var boundaries = decayEpochs.Select(e => w.ByEpoch ? e : (long)e * c.ItersPerEpoch).ToList();
        return Finish("Piecewise", new PiecewiseCurve(boundaries, values), w, values[0], c);
    }

    /// <summary>PaddleClas <c>ConstLR</c>: a constant rate, with optional warm-up.</summary>
    static LearningRateSchedule ConstLR(ConfigSection lr, ScheduleContext c)
    {
        double rate = RequiredRate(lr);
        var w = ReadWarmup(lr, c);
        return Finish("ConstLR", new ConstantCurve(rate), w, rate, c);
    }

    /// <summary>Paddle-level <c>Constant</c>: a bare constant rate (no warm-up keys).</summary>
    static LearningRateSchedule Constant(ConfigSection lr, ScheduleContext c) =>
        new("Constant", new ConstantCurve(RequiredRate(lr)), byEpoch: false, c.ItersPerEpoch);

    static double RequiredRate(ConfigSection lr)
    {
        double rate = lr.RequiredDouble("learning_rate", "0.1");
        return rate >= 0 ? rate : throw Invalid(lr, "learning_rate", $"must not be negative, got {rate}");
    }

    static ConfigException Invalid(ConfigSection s, string key, string problem) =>
        ConfigException.At(s.KeyPath(key), s.Raw(key)?.Location ?? s.Location, problem);
}
