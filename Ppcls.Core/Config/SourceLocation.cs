namespace Ppcls.Core.Config;

/// <summary>Where a config value came from: a YAML file position or a command-line override.</summary>
public sealed record SourceLocation(string Source, int Line, int Column)
{
    public static SourceLocation CommandLine(string option) => new($"-o {option}", 0, 0);

    public override string ToString() => Line > 0 ? $"{Source}:{Line}" : Source;
}
