namespace Ppcls.Core.Config;

/// <summary>
/// A mistake in a config or command line that the user can fix. Its message is one
/// line naming the key path, where it came from, and what to do; the CLI prints it
/// without a stack trace.
/// </summary>
public sealed class ConfigException : PpclsUserException
{
    public ConfigException(string message) : base(message) { }

    public static ConfigException At(string keyPath, SourceLocation? where, string problem) =>
        new(where is null ? $"{keyPath}: {problem}" : $"{keyPath} ({where}): {problem}");
}
