using System.Globalization;
using Ppcls.Core.Engine;
using Ppcls.Core.Logging;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ppcls.Tools.Cli;

/// <summary>How `ppcls train` and `ppcls eval` show their progress.</summary>
public enum ProgressStyle
{
    /// <summary>PaddleClas's log lines, one per `print_batch_step` iterations (redirected output, CI, dumb terminals, tests).</summary>
    Plain,

    /// <summary>A Spectre.Console bar per epoch on an interactive terminal; the other log lines print above it.</summary>
    Live,
}

/// <summary>
/// Picks the progress style and runs a training or eval under it. In both styles every log line
/// still reaches the run's log file unchanged; the live style only keeps the per-iteration lines
/// off the terminal, where the bar shows the same figures.
/// </summary>
public static class ProgressDisplay
{
    /// <summary>Environment variables that CI systems set (a non-empty value other than `false`/`0` counts).</summary>
    public static readonly IReadOnlyList<string> CiVariables =
        ["CI", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD", "JENKINS_URL", "BUILDKITE", "CIRCLECI", "TEAMCITY_VERSION", "TRAVIS", "APPVEYOR"];

    /// <summary>
    /// Live only when the command writes to the process's own terminal: its output is the
    /// console's (not a capture), standard output is not redirected, and neither `NO_COLOR`,
    /// `TERM=dumb` nor a CI variable is set.
    /// </summary>
    public static ProgressStyle Choose(bool writesToConsole, bool outputRedirected, Func<string, string?> environment)
    {
        if (!writesToConsole || outputRedirected) return ProgressStyle.Plain;
        if (!string.IsNullOrEmpty(environment("NO_COLOR"))) return ProgressStyle.Plain;
        if (string.Equals(environment("TERM"), "dumb", StringComparison.OrdinalIgnoreCase)) return ProgressStyle.Plain;
        foreach (var name in CiVariables)
            if (environment(name) is { Length: > 0 } value && value != "0" && !value.Equals("false", StringComparison.OrdinalIgnoreCase))
                return ProgressStyle.Plain;
        return ProgressStyle.Live;
    }

    /// <summary>The style for a command writing to <paramref name="output"/> in this process.</summary>
    public static ProgressStyle For(TextWriter output) =>
        Choose(ReferenceEquals(output, Console.Out), Console.IsOutputRedirected, Environment.GetEnvironmentVariable);

    /// <summary>
    /// Runs <paramref name="body"/>: as is in the plain style (no observer), or inside a live
    /// progress display whose observer it hands to the engine.
    /// </summary>
    /// <param name="console">Where the live display draws (the process's terminal unless given).</param>
    public static T Run<T>(ProgressStyle style, Func<ITrainingObserver?, T> body, IAnsiConsole? console = null)
    {
        if (style == ProgressStyle.Plain) return body(null);
        console ??= AnsiConsole.Console;
        return console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 20 }, new IterationColumn())
            .Start(context =>
            {
                // Log lines print above the bar; per-iteration lines are what the bar shows instead.
                PpclsLog.ConsoleRedirect = (line, isStep) =>
                {
                    if (!isStep) console.WriteLine(line, Style.Plain);
                };
                try
                {
                    return body(new LiveProgress(context));
                }
                finally
                {
                    PpclsLog.ConsoleRedirect = null;
                }
            });
    }

    /// <summary>The bar's text: `Train epoch 3/60  loss 0.67051  ips 1170.1 samples/s  eta 0:00:12`.</summary>
    public static string Describe(EpochStarted epoch, IterationFinished? iteration)
    {
        string title = epoch.Phase == RunPhase.Train
            ? $"Train epoch {epoch.Epoch}/{epoch.Epochs}"
            : $"Eval epoch {epoch.Epoch}";
        if (iteration is null) return title;
        var text = new System.Text.StringBuilder(title);
        if (iteration.Loss is { } loss) text.Append(CultureInfo.InvariantCulture, $"  loss {loss:F5}");
        text.Append(CultureInfo.InvariantCulture, $"  ips {iteration.SamplesPerSecond:F1} samples/s  eta {TrainLog.Eta(iteration.Eta)}");
        return text.ToString();
    }

    /// <summary>One bar per epoch, replaced by the next; the engine's events move it.</summary>
    sealed class LiveProgress(ProgressContext context) : ITrainingObserver
    {
        ProgressTask? _task;
        EpochStarted? _epoch;

        public void OnEpochStarted(EpochStarted epoch)
        {
            _task?.StopTask();
            _epoch = epoch;
            _task = context.AddTask(Markup.Escape(Describe(epoch, null)), maxValue: Math.Max(1, epoch.Iterations));
        }

        public void OnIterationFinished(IterationFinished iteration)
        {
            if (_task is null || _epoch is null) return;
            _task.Value = iteration.Iteration + 1;
            _task.Description = Markup.Escape(Describe(_epoch, iteration));
        }

        public void OnEpochFinished(EpochFinished epoch)
        {
            if (_task is null) return;
            _task.Value = _task.MaxValue;
            _task.StopTask();
            _task = null;
        }
    }

    /// <summary>`9/10`: iterations done out of the epoch's.</summary>
    sealed class IterationColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(string.Create(CultureInfo.InvariantCulture, $"{task.Value:0}/{task.MaxValue:0}"));
    }
}
