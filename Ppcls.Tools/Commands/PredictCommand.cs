using System.CommandLine;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls predict --model-dir DIR --images PATH`: the deploy-side predictor over an exported folder.</summary>
public static class PredictCommand
{
    public static Command Build()
    {
        var modelDir = new Option<string>("--model-dir") { Description = "folder written by 'ppcls export' (inference.onnx + inference.yml)", Required = true };
        var images = new Option<string>("--images") { Description = "an image file or a folder of images", Required = true };
        var command = new Command("predict",
            "Run an exported model with ONNX Runtime, without a training config.\n\n" +
            "Example:\n  ppcls predict --model-dir inference --images dataset/demo/images");
        command.Add(modelDir);
        command.Add(images);
        command.SetAction(parse =>
        {
            string dir = parse.GetRequiredValue(modelDir);
            if (!Directory.Exists(dir))
                throw new Ppcls.Core.PpclsUserException($"--model-dir {dir}: folder not found; create it with 'ppcls export'");
            return PendingFeatureException.Raise("predict", "the ONNX Runtime predictor");
        });
        return command;
    }
}
