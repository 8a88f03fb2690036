using System.CommandLine;
using Ppcls.Core.Distributed;
using Ppcls.Core.Logging;
using Ppcls.Core.Engine;
using Ppcls.Tools.Cli;
using Ppcls.Tools.Reporting;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls train -c CONFIG [-o Key=value ...] [--check]`.</summary>
public static class TrainCommand
{
    public static Command Build()
    {
        var config = new ConfigOptions();
        var check = new Option<bool>("--check")
        {
            Description = "validate the whole config (model, data lists, losses, optimizer, schedule, weights), then stop before reading any image",
        };
        var command = new Command("train",
            "Train a model from a PaddleClas-style YAML config (checkpoints and training_curves.png in <Global.output_dir>/<Arch.name>/).\n\n" +
            "Example:\n  ppcls train -c configs/quick_start/PPLCNet_x0_25_demo.yaml -o Global.epochs=5 -o Global.device=cpu");
        config.AddTo(command);
        command.Add(check);
        command.SetAction(parse =>
        {
            var setup = RunSetup.Prepare(config.Load(parse), "train.log");
            bool checkOnly = parse.GetValue(check);
            var style = checkOnly || World.Current.Rank != 0 ? ProgressStyle.Plain : ProgressDisplay.For(parse.InvocationConfiguration.Output);
            var result = ProgressDisplay.Run(style, observer => setup.Trainer(observer).Run(checkOnly));
            if (checkOnly) return 0;
            PpclsLog.Info(DoneLine(result));
            if (result.History.Count > 0 && World.Current.Rank == 0)
            {
                string curves = Path.GetFullPath(Path.Combine(result.OutputDir, TrainingCurvesPlot.FileName));
                TrainingCurvesPlot.Save(curves, result.History);
                PpclsLog.Info($"training curves ({result.History.Count} epoch(s)): {curves}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>The run's last line; a run whose evaluation never started (start_eval_epoch past the end) says so.</summary>
    internal static string DoneLine(TrainingResult result) =>
        $"training done: {result.Epochs} epoch(s), " +
        (result.BestMetric is { } best ? $"best {result.MetricName} {best:F5} at epoch {result.BestEpoch}" : "no evaluation ran (see Global.eval_during_train, start_eval_epoch)") +
        $"; checkpoints in {Path.GetFullPath(result.OutputDir)}";
}
