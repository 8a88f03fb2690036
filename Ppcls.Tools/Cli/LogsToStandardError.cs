using Ppcls.Core.Logging;

namespace Ppcls.Tools.Cli;

/// <summary>
/// For commands whose standard output is JSON lines only: while a body runs, the run's log lines
/// go to standard error and the per-step lines are dropped.
/// </summary>
public static class LogsToStandardError
{
    public static void While(TextWriter error, Action body)
    {
        PpclsLog.ConsoleRedirect = (line, isStep) =>
        {
            if (!isStep) error.WriteLine(line);
        };
        try
        {
            body();
        }
        finally
        {
            PpclsLog.ConsoleRedirect = null;
        }
    }
}
