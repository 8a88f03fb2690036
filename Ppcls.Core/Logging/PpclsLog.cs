using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace Ppcls.Core.Logging;

/// <summary>
/// The process logger: console, plus a log file once a run knows its output folder
/// (`&lt;output_dir&gt;/&lt;Arch.name&gt;/train.log`). Lines look like PaddleClas's:
/// `[2026/11/23 06:20:00] ppcls INFO: message`.
/// </summary>
/// <remarks>
/// Per-iteration lines (<see cref="Step"/>) are ordinary INFO lines carrying a marker, so a
/// console that draws a progress bar instead can leave them out: while
/// <see cref="ConsoleRedirect"/> is set, console lines go to it (with the marker) instead of the
/// console sink. The log file always receives every line, in the same shape.
/// </remarks>
public static class PpclsLog
{
    const string Template = "[{Timestamp:yyyy/MM/dd HH:mm:ss}] ppcls {Level:u4}: {Message:lj}{NewLine}{Exception}";
    const string StepProperty = "PpclsStep";
    static readonly MessageTemplateTextFormatter Formatter = new(Template);

    static LogEventLevel _minimum = LogEventLevel.Information;
    static Logger _logger = Create(null);
    static volatile Action<string, bool>? _consoleRedirect;

    public static ILogger Logger => _logger;

    /// <summary>
    /// While set, each console line (formatted, without its line break) goes here with whether it
    /// is a per-iteration <see cref="Step"/> line, instead of to standard output. Null: the plain console.
    /// </summary>
    public static Action<string, bool>? ConsoleRedirect
    {
        get => _consoleRedirect;
        set => _consoleRedirect = value;
    }

    static Logger Create(string? logFile)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(_minimum)
            .WriteTo.Logger(plain => plain
                .Filter.ByExcluding(_ => _consoleRedirect is not null)
                .WriteTo.Console(outputTemplate: Template))
            .WriteTo.Sink(new RedirectSink());
        if (logFile is not null) configuration = configuration.WriteTo.File(logFile, outputTemplate: Template);
        return configuration.CreateLogger();
    }

    /// <summary>Adds <paramref name="logFile"/> (appending; folders created) to the console output.</summary>
    public static void AddFile(string logFile)
    {
        if (_minimum > LogEventLevel.Information) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        var previous = _logger;
        _logger = Create(logFile);
        previous.Dispose();
    }

    /// <summary>
    /// From now on only errors are logged, and <see cref="AddFile"/> adds no file: the other ranks
    /// of a data-parallel job, where rank 0 writes the logs (as PaddleClas's logger does).
    /// </summary>
    public static void ErrorsOnly()
    {
        _minimum = LogEventLevel.Error;
        Close();
    }

    public static void Info(string message) => _logger.Information("{Text:l}", message);
    public static void Warn(string message) => _logger.Warning("{Text:l}", message);

    /// <summary>A per-iteration INFO line (`[Train][Epoch 1/10][Iter: 0/50]...`): the same line as <see cref="Info"/>, marked as a step.</summary>
    public static void Step(string message) => _logger.ForContext(StepProperty, true).Information("{Text:l}", message);

    /// <summary>Flushes and closes the file sink (call before exit); later lines go to the console only.</summary>
    public static void Close()
    {
        var previous = _logger;
        _logger = Create(null);
        previous.Dispose();
    }

    sealed class RedirectSink : ILogEventSink
    {
        public void Emit(LogEvent logEvent)
        {
            if (_consoleRedirect is not { } redirect) return;
            var text = new StringWriter();
            Formatter.Format(logEvent, text);
            redirect(text.ToString().TrimEnd('\r', '\n'), logEvent.Properties.ContainsKey(StepProperty));
        }
    }
}
