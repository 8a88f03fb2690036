using Ppcls.Core.Config;
using System.CommandLine;
using Ppcls.Core.Checkpoint;
using Ppcls.Models;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls weights convert IN OUT`: between .pdparams, .safetensors and (read only) .pth / .pt.</summary>
public static class WeightsCommand
{
    public static Command Build()
    {
        var command = new Command("weights",
            "Convert weight files between PaddleClas .pdparams, .safetensors and (as input only) PyTorch .pth/.pt.\n\n" +
            "Example:\n  ppcls weights convert output/PPLCNet_x0_25/best_model.safetensors PPLCNet_x0_25_pretrained.pdparams");
        command.Add(BuildConvert());
        return command;
    }

    static Command BuildConvert()
    {
        var convert = new Command("convert",
            "Read IN (format by extension: .pdparams, .safetensors, .pth, .pt) and write OUT (.pdparams or .safetensors). " +
            "Linear weights are transposed to Paddle's [in, out] in .pdparams; PyTorch BatchNorm names become PaddleClas's " +
            "(running_mean -> _mean, running_var -> _variance, num_batches_tracked dropped).");
        var input = new Argument<string>("IN") { Description = "weights file to read" };
        var output = new Argument<string>("OUT") { Description = "weights file to write (.pdparams or .safetensors)" };
        var arch = new Option<string?>("--arch") { Description = "model name whose layout applies: its timm name map for a .pth input and its Linear weights for .pdparams, e.g. PPHGNetV2_B0" };
        convert.Add(input);
        convert.Add(output);
        convert.Add(arch);
        convert.SetAction(parse =>
        {
            string from = WeightLoader.Resolve(parse.GetRequiredValue(input), "IN");
            string to = parse.GetRequiredValue(output);
            var layout = parse.GetValue(arch) is { } name ? LayoutOf(name) : WeightLayout.WithoutModel;
            var weights = WeightFile.Read(from, layout);
            try
            {
                WeightFile.Write(to, weights, layout.IsLinearWeight, "OUT");
                parse.InvocationConfiguration.Output.WriteLine($"wrote {weights.Count} tensors from {from} to {to}");
            }
            finally
            {
                foreach (var tensor in weights.Values) tensor.Dispose();
            }
        });
        return convert;
    }

    /// <summary>The named model's layout: its timm name map and its Linear weights (read off a default-built instance).</summary>
    static WeightLayout LayoutOf(string name)
    {
        var entry = ModelZoo.CreateRegistry().Get(name, "--arch");
        using var model = entry.Create(ConfigSection.Empty("--arch"));
        return new WeightLayout(entry.Preset.TimmKeyMap, PaddleLayout.LinearWeightsOf(model));
    }
}
