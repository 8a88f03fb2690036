using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Models;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls models list` and `ppcls models info NAME [--class-num N] [--image-size S] [--fused] [--json]`.</summary>
public static class ModelsCommand
{
    public static Command Build()
    {
        var command = new Command("models",
            "List the model zoo, or show a model's parameter count, MACs and output shape.\n\n" +
            "Example:\n  ppcls models info PPHGNetV2_B4 --class-num 10 --image-size 224 --json");
        command.Add(BuildList());
        command.Add(BuildInfo());
        return command;
    }

    static Command BuildList()
    {
        var list = new Command("list", "Print every registered model name, grouped by family.");
        list.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            foreach (var group in ModelZoo.CreateRegistry().Entries.GroupBy(e => e.Family))
            {
                output.WriteLine($"{group.Key}:");
                foreach (var entry in group) output.WriteLine($"  {entry.Name}");
            }
        });
        return list;
    }

    static Command BuildInfo()
    {
        var name = new Argument<string>("NAME") { Description = "a model name from 'ppcls models list'" };
        var classNum = new Option<int>("--class-num") { Description = "classifier outputs", DefaultValueFactory = _ => 1000 };
        var imageSize = new Option<int?>("--image-size") { Description = "square input size (default: the model's preset)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object: name, params, macs, flops, input, output" };
        var fused = new Option<bool>("--fused")
        {
            Description = "measure the inference form: rep branches merged and every Conv+BN folded (ModelFusion), as export uses it",
        };
        var info = new Command("info", "Build the model and report trainable parameters, MACs, Paddle-convention FLOPs and shapes at one input size.");
        info.Add(name);
        info.Add(classNum);
        info.Add(imageSize);
        info.Add(json);
        info.Add(fused);
        info.SetAction(parse =>
        {
            var entry = ModelZoo.CreateRegistry().Get(parse.GetRequiredValue(name), "NAME");
            int classes = parse.GetValue(classNum);
            if (classes < 1) throw new ConfigException($"--class-num must be at least 1, got {classes}");
            int size = parse.GetValue(imageSize) ?? entry.Preset.InputSize;
            if (size < 32) throw new ConfigException($"--image-size must be at least 32, got {size}");

            var options = new ConfigMap();
            options["class_num"] = new ConfigScalar(classes.ToString(CultureInfo.InvariantCulture));
            var model = entry.Create(new ConfigSection(options, "Arch"));
            if (parse.GetValue(fused)) ModelFusion.Fuse(model);
            var profile = ModelProfile.Measure(model, size);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    name = entry.Name,
                    @params = profile.TrainableParameters,
                    macs = profile.Macs,
                    flops = profile.PaddleFlops,
                    input = profile.InputShape,
                    output = profile.OutputShape,
                }));
                return;
            }
            output.WriteLine($"model:  {entry.Name} ({entry.Family}){(parse.GetValue(fused) ? ", fused for inference" : "")}");
            output.WriteLine($"params: {profile.TrainableParameters:N0} ({profile.TrainableParameters / 1e6:F2} M)");
            output.WriteLine($"MACs:   {profile.Macs:N0} ({profile.Macs / 1e6:F1} M) at {size}x{size}");
            output.WriteLine($"FLOPs:  {profile.PaddleFlops:N0} ({profile.PaddleFlops / 1e6:F2} M, as paddle.flops counts) at {size}x{size}");
            output.WriteLine($"input:  [{string.Join(", ", profile.InputShape)}]");
            output.WriteLine($"output: [{string.Join(", ", profile.OutputShape)}]");
        });
        return info;
    }
}
