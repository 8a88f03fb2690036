using System.CommandLine;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls benchmark`: throughput measurements that print ratios measured in one run.</summary>
public static class BenchmarkCommand
{
    public static Command Build()
    {
        var command = new Command("benchmark",
            "Measure training and inference throughput (samples/s), printing ratios measured in one run.\n\n" +
            "Example:\n  ppcls benchmark train -c configs/quick_start/PPLCNet_x0_25_demo.yaml");
        var train = new Command("train", "Training-step throughput of the config's model.");
        var config = new ConfigOptions();
        config.AddTo(train);
        train.SetAction(parse =>
        {
            RunSetup.Prepare(config.Load(parse), "benchmark.log");
            throw new PendingFeatureException("benchmark train", "the training-step benchmark");
        });
        command.Add(train);
        return command;
    }
}
