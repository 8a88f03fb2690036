using System.CommandLine;
using Ppcls.Tools.Benchmarks;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls benchmark train -c CONFIG [-o ...] [--iters N] [--warmup N]`: the Trainer's step on synthetic and real batches.</summary>
public static class TrainBenchmarkCommand
{
    public static Command Build()
    {
        var options = new ConfigOptions();
        var iters = new Option<int>("--iters") { Description = "timed training steps per source", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps before them, per source", DefaultValueFactory = _ => 3 };
        var command = new Command("train",
            "Time the Trainer's own training step (model, loss, optimizer, schedule and metrics from the config) in one run: " +
            "on one batch held in memory (phase synthetic, the compute floor) and on DataLoader.Train (phase real), " +
            "their ratio (phase real/synthetic), and the Trainer's per-step overhead beyond reader, forward, backward and optimizer " +
            "(phase overhead). Prints JSON lines; log lines go to standard error; no checkpoint or log file is written.\n\n" +
            "Example:\n  ppcls benchmark train -c configs/quick_start/PPLCNet_x0_25_demo.yaml -o Arch.name=PPHGNetV2_B0 --iters 20 --warmup 3");
        options.AddTo(command);
        command.Add(iters);
        command.Add(warmup);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            LogsToStandardError.While(error, () =>
            {
                var setup = RunSetup.Prepare(options.Load(parse), logName: null);
                foreach (var line in TrainBenchmark.Run(setup, parse.GetValue(iters), parse.GetValue(warmup)))
                    output.WriteLine(line.ToJson());
            });
        });
        return command;
    }
}
