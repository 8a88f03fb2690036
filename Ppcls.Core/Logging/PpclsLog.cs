using Serilog;
using Serilog.Core;

namespace Ppcls.Core.Logging;

/// <summary>
/// The process logger: console, plus a log file once a run knows its output folder
/// (`&lt;output_dir&gt;/&lt;Arch.name&gt;/train.log`). Lines look like PaddleClas's:
/// `[2026/11/23 06:20:00] ppcls INFO: message`.
/// </summary>
public static class PpclsLog
{
    const string Template = "[{Timestamp:yyyy/MM/dd HH:mm:ss}] ppcls {Level:u4}: {Message:lj}{NewLine}{Exception}";

    static Logger _logger = Console();

    public static ILogger Logger => _logger;

    static Logger Console() =>
        new LoggerConfiguration().WriteTo.Console(outputTemplate: Template).CreateLogger();

    /// <summary>Adds <paramref name="logFile"/> (appending; folders created) to the console output.</summary>
    public static void AddFile(string logFile)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        var previous = _logger;
        _logger = new LoggerConfiguration()
            .WriteTo.Console(outputTemplate: Template)
            .WriteTo.File(logFile, outputTemplate: Template)
            .CreateLogger();
        previous.Dispose();
    }

    public static void Info(string message) => _logger.Information("{Text:l}", message);
    public static void Warn(string message) => _logger.Warning("{Text:l}", message);

    /// <summary>Flushes and closes the file sink (call before exit); later lines go to the console only.</summary>
    public static void Close()
    {
        var previous = _logger;
        _logger = Console();
        previous.Dispose();
    }
}
