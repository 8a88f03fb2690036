using System.CommandLine;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls eval -c CONFIG [-o Key=value ...]`.</summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var config = new ConfigOptions();
        var command = new Command("eval",
            "Evaluate a trained model on DataLoader.Eval and print PaddleClas's [Eval] lines.\n\n" +
            "Example:\n  ppcls eval -c configs/quick_start/PPLCNet_x0_25_demo.yaml -o Global.pretrained_model=output/PPLCNet_x0_25/best_model");
        config.AddTo(command);
        command.SetAction(parse =>
        {
            RunSetup.Prepare(config.Load(parse), "eval.log");
            return PendingFeatureException.Raise("eval", "evaluation (data loaders, metrics, checkpoint loading)");
        });
        return command;
    }
}
