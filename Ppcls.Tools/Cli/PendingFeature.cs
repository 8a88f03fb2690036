using Ppcls.Core;

namespace Ppcls.Tools.Cli;

/// <summary>
/// Raised by a command whose engine part has not been built yet, after its config was
/// loaded and validated, so the user learns both that the config is good and what is missing.
/// The CLI exits with <see cref="ExitCode"/>.
/// </summary>
public sealed class PendingFeatureException(string command, string what)
    : PpclsUserException($"'ppcls {command}': {what} is not available in this version of Ppcls yet")
{
    public const int ExitCode = 3;

    /// <summary>Throws; typed as int so a command action can end with `return Raise(...)`.</summary>
    public static int Raise(string command, string what) => throw new PendingFeatureException(command, what);
}
