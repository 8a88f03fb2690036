using System.CommandLine;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls export -c CONFIG [-o Key=value ...]`.</summary>
public static class ExportCommand
{
    public static Command Build()
    {
        var config = new ConfigOptions();
        var command = new Command("export",
            "Export the model to Global.save_inference_dir as ONNX, verified by ONNX Runtime.\n\n" +
            "Example:\n  ppcls export -c configs/quick_start/PPLCNet_x0_25_demo.yaml -o Global.pretrained_model=output/PPLCNet_x0_25/best_model -o Global.save_inference_dir=inference");
        config.AddTo(command);
        command.SetAction(parse =>
        {
            RunSetup.Prepare(config.Load(parse), "export.log");
            return PendingFeatureException.Raise("export", "ONNX export");
        });
        return command;
    }
}
