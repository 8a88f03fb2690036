using Ppcls.Core.Config;
using System.CommandLine;
using Ppcls.Core.Checkpoint;
using Ppcls.Models;

namespace Ppcls.Tools.Commands;

/// <summary>
/// `ppcls weights convert IN OUT`: between .pdparams, .safetensors and (read only) .pth / .pt; `ppcls weights list`:
/// which models have their pretrained file in the weights folder (<see cref="PretrainedStore"/>).
/// </summary>
public static class WeightsCommand
{
    public static Command Build()
    {
        var command = new Command("weights",
            "Convert weight files between PaddleClas .pdparams, .safetensors and (as input only) PyTorch .pth/.pt; " +
            "list the pretrained weights present in $PPCLS_HOME (default ~/.ppcls/weights).\n\n" +
            "Example:\n  ppcls weights convert output/PPLCNet_x0_25/best_model.safetensors PPLCNet_x0_25_pretrained.pdparams\n  ppcls weights list");
        command.Add(BuildConvert());
        command.Add(BuildList());
        return command;
    }

    static Command BuildList()
    {
        var all = new Option<bool>("--all") { Description = "also list the models whose weights are missing, with the file to put there" };
        var list = new Command("list", "List the models whose pretrained ImageNet weights (PaddleClas's published file names) are in $PPCLS_HOME (default ~/.ppcls/weights).");
        list.Add(all);
        list.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            bool everything = parse.GetValue(all);
            output.WriteLine($"pretrained weights in {PretrainedStore.Home}:");
            int present = 0, total = 0;
            foreach (var entry in ModelZoo.CreateRegistry().Entries)
            {
                total++;
                string? file = PretrainedStore.Find(entry.Name, entry.Preset, useSsld: false) ?? PretrainedStore.Find(entry.Name, entry.Preset, useSsld: true);
                if (file is not null) present++;
                if (file is not null || everything)
                    output.WriteLine($"  {entry.Name,-28} {(file is null ? "missing" : "present"),-8} {(file is null ? PretrainedStore.Stem(entry.Name, entry.Preset, false) + ".pdparams" : Path.GetFileName(file))}");
            }
            output.WriteLine($"{present} of {total} models have weights; add a file under its PaddleClas name (see 'ppcls weights list --all')");
            return 0;
        });
        return list;
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
