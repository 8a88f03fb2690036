using System.CommandLine;
using Ppcls.Core.Config;

namespace Ppcls.Tools.Cli;

/// <summary>The PaddleClas-style `-c CONFIG` and repeatable `-o Key.Sub=value` options.</summary>
public sealed class ConfigOptions
{
    public Option<string> Config { get; } = new("--config", "-c")
    {
        Description = "YAML config in the PaddleClas schema",
        Required = true,
    };

    public Option<string[]> Overrides { get; } = new("--override", "-o")
    {
        Description = "override a config key, repeatable: -o Global.epochs=10 -o Arch.class_num=5",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public void AddTo(Command command)
    {
        command.Add(Config);
        command.Add(Overrides);
    }

    /// <summary>
    /// Loads and validates the config. Its notices (new keys, ignored PaddleClas keys) are
    /// returned rather than logged: the run's log file is only known once the config is read.
    /// </summary>
    public (PpclsConfig Config, IReadOnlyList<string> Notices) Load(ParseResult parse)
    {
        var notices = new List<string>();
        var config = PpclsConfig.Load(parse.GetRequiredValue(Config), parse.GetValue(Overrides) ?? [], notices.Add);
        return (config, notices);
    }
}
