using System.CommandLine;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls infer -c CONFIG [-o Key=value ...]`.</summary>
public static class InferCommand
{
    public static Command Build()
    {
        var config = new ConfigOptions();
        var command = new Command("infer",
            "Predict classes for Infer.infer_imgs with the trained model and print top-k results.\n\n" +
            "Example:\n  ppcls infer -c configs/quick_start/PPLCNet_x0_25_demo.yaml -o Global.pretrained_model=output/PPLCNet_x0_25/best_model -o Infer.infer_imgs=dataset/demo/images");
        config.AddTo(command);
        command.SetAction(parse =>
        {
            RunSetup.Prepare(config.Load(parse), "infer.log");
            return PendingFeatureException.Raise("infer", "inference (transforms, Topk post-process, checkpoint loading)");
        });
        return command;
    }
}
