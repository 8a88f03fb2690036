using System.CommandLine;
using Ppcls.Core.Config;
using Ppcls.Data;
using Ppcls.Data.Tools;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls benchmark data -c CONFIG [--loader Train|Eval] [--batches N] [--max-workers K]`: data pipeline throughput.</summary>
public static class DataBenchmarkCommand
{
    public static Command Build()
    {
        var options = new ConfigOptions();
        var loaderName = new Option<string>("--loader") { Description = "which DataLoader section to measure: Train or Eval", DefaultValueFactory = _ => "Train" };
        loaderName.AcceptOnlyFromAmong("Train", "Eval");
        var batches = new Option<int>("--batches") { Description = "batches per measurement", DefaultValueFactory = _ => 20 };
        var maxWorkers = new Option<int>("--max-workers") { Description = "measure the loader with 1..K workers", DefaultValueFactory = _ => Environment.ProcessorCount };
        var rounds = new Option<int>("--rounds") { Description = "interleaved rounds of every stage; medians are reported", DefaultValueFactory = _ => 3 };
        var command = new Command("data",
            "Measure the data pipeline of a config in one run: read+decode only on 1..K threads, the full transform_ops chain on one thread, " +
            "and the loader with 1..K workers, in interleaved rounds; prints one JSON line per stage (model, phase, size, batch, threads, samples_per_s, workers: " +
            "the median over the rounds), then the ratios chain/decode, decodeK/decode1 (how this machine scales the same work over K threads: " +
            "the ceiling for the loader) and loaderK/loader1 (medians of the per-round ratios), then op:NAME lines: " +
            "microseconds per image of reading, each op and the write into the batch.");
        options.AddTo(command);
        command.Add(loaderName);
        command.Add(batches);
        command.Add(maxWorkers);
        command.Add(rounds);
        command.SetAction(parse =>
        {
            var (config, notices) = options.Load(parse);
            var output = parse.InvocationConfiguration.Output;
            string which = parse.GetValue(loaderName)!;
            var loader = (which == "Eval" ? config.DataLoader?.Eval : config.DataLoader?.Train)
                ?? throw new ConfigException($"DataLoader.{which}: the config has no such loader to measure");
            int n = parse.GetValue(batches), k = parse.GetValue(maxWorkers), r = parse.GetValue(rounds);
            if (n < 1) throw new ConfigException($"--batches must be at least 1, got {n}");
            if (k < 1) throw new ConfigException($"--max-workers must be at least 1, got {k}");
            if (r < 1) throw new ConfigException($"--rounds must be at least 1, got {r}");
            var factory = new DataLoaderFactory(DataCatalog.CreateRegistry());
            var error = parse.InvocationConfiguration.Error;
            foreach (var notice in notices) error.WriteLine(notice);
            var (stages, ratios) = DataBenchmark.Measure(factory, loader, config.Arch.ClassNum, config.Global.Seed ?? 0, n, k, r, error.WriteLine);
            foreach (var stage in stages) output.WriteLine(stage.ToLine(config.Arch.Name).ToJson());
            foreach (var ratio in ratios) output.WriteLine(ratio.ToLine(config.Arch.Name).ToJson());
            foreach (var op in DataBenchmark.ProfileOps(factory, loader, config.Arch.ClassNum, config.Global.Seed ?? 0, n, config.Arch.Name, _ => { }))
                output.WriteLine(op.ToJson());
        });
        return command;
    }
}
