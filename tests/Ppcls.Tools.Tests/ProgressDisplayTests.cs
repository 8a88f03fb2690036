using Ppcls.Core.Engine;
using Ppcls.Core.Logging;
using Ppcls.Tools.Cli;
using Spectre.Console;

namespace Ppcls.Tools.Tests;

/// <summary>Which progress style a run gets, decided without a real terminal, and the live style's wiring.</summary>
public sealed class ProgressDisplayTests
{
    static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Test]
    public void A_terminal_with_a_clean_environment_gets_the_live_bar() =>
        Assert.That(ProgressDisplay.Choose(writesToConsole: true, outputRedirected: false, Env(("TERM", "xterm-256color"))), Is.EqualTo(ProgressStyle.Live));

    [Test]
    public void Redirected_output_gets_plain_lines() =>
        Assert.That(ProgressDisplay.Choose(writesToConsole: true, outputRedirected: true, Env()), Is.EqualTo(ProgressStyle.Plain));

    [Test]
    public void Output_captured_by_a_writer_other_than_the_console_gets_plain_lines()
    {
        Assert.That(ProgressDisplay.Choose(writesToConsole: false, outputRedirected: false, Env()), Is.EqualTo(ProgressStyle.Plain));
        Assert.That(ProgressDisplay.For(new StringWriter()), Is.EqualTo(ProgressStyle.Plain));
    }

    [TestCase("NO_COLOR", "1")]
    [TestCase("TERM", "dumb")]
    [TestCase("CI", "true")]
    [TestCase("GITHUB_ACTIONS", "true")]
    [TestCase("TF_BUILD", "True")]
    public void A_terminal_asking_for_plain_output_gets_plain_lines(string name, string value) =>
        Assert.That(ProgressDisplay.Choose(true, false, Env((name, value))), Is.EqualTo(ProgressStyle.Plain));

    [TestCase("NO_COLOR", "")]
    [TestCase("CI", "false")]
    [TestCase("CI", "0")]
    [TestCase("TERM", "xterm")]
    public void Empty_or_false_settings_keep_the_live_bar(string name, string value) =>
        Assert.That(ProgressDisplay.Choose(true, false, Env((name, value))), Is.EqualTo(ProgressStyle.Live));

    [Test]
    public void The_plain_style_runs_the_engine_without_an_observer()
    {
        ITrainingObserver? seen = new NoObserver();

        int result = ProgressDisplay.Run(ProgressStyle.Plain, observer => { seen = observer; return 7; });

        Assert.That(result, Is.EqualTo(7));
        Assert.That(seen, Is.Null);
    }

    [Test]
    [NonParallelizable]
    public void The_live_style_prints_log_lines_above_the_bar_and_leaves_step_lines_to_it()
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(text),
        });
        ITrainingObserver? seen = null;

        int result = ProgressDisplay.Run(ProgressStyle.Live, observer =>
        {
            seen = observer;
            observer!.OnEpochStarted(new EpochStarted(RunPhase.Train, 1, 2, 4));
            PpclsLog.Step("[Train][Epoch 1/2][Iter: 0/4]step line");
            observer.OnIterationFinished(new IterationFinished(RunPhase.Train, 1, 0, 4, 8, 2.5, 100, TimeSpan.FromSeconds(3), default));
            PpclsLog.Info("[Train][Epoch 1/2][Avg]average line");
            observer.OnEpochFinished(new EpochFinished(RunPhase.Train, 1, new Dictionary<string, double>()));
            return 3;
        }, console);

        Assert.That(result, Is.EqualTo(3));
        Assert.That(seen, Is.Not.Null);
        Assert.That(text.ToString(), Does.Contain("[Train][Epoch 1/2][Avg]average line"));
        Assert.That(text.ToString(), Does.Not.Contain("step line"));
        Assert.That(PpclsLog.ConsoleRedirect, Is.Null, "the plain console is back after the run");
    }

    [Test]
    public void The_bar_text_shows_epoch_loss_ips_and_eta()
    {
        var epoch = new EpochStarted(RunPhase.Train, 3, 60, 10);
        var step = new IterationFinished(RunPhase.Train, 3, 8, 10, 32, 0.670512, 1170.146, TimeSpan.FromSeconds(83), default);

        Assert.That(ProgressDisplay.Describe(epoch, null), Is.EqualTo("Train epoch 3/60"));
        Assert.That(ProgressDisplay.Describe(epoch, step), Is.EqualTo("Train epoch 3/60  loss 0.67051  ips 1170.1 samples/s  eta 0:01:23"));
        Assert.That(ProgressDisplay.Describe(new EpochStarted(RunPhase.Eval, 0, 0, 2), step with { Phase = RunPhase.Eval, Loss = null }),
            Is.EqualTo("Eval epoch 0  ips 1170.1 samples/s  eta 0:01:23"));
    }

    sealed class NoObserver : ITrainingObserver
    {
        public void OnEpochStarted(EpochStarted epoch) { }
        public void OnIterationFinished(IterationFinished iteration) { }
        public void OnEpochFinished(EpochFinished epoch) { }
    }
}
