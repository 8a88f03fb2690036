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
        var command = new Command("data",
            "Measure the data pipeline of a config in one run: read+decode only, the full transform_ops chain on one thread, " +
            "and the loader with 1..K workers; prints one JSON line per measurement (model, phase, size, batch, threads, samples_per_s, workers).");
        options.AddTo(command);
        command.Add(loaderName);
        command.Add(batches);
        command.Add(maxWorkers);
        command.SetAction(parse =>
        {
            var (config, notices) = options.Load(parse);
            var output = parse.InvocationConfiguration.Output;
            string which = parse.GetValue(loaderName)!;
            var loader = (which == "Eval" ? config.DataLoader?.Eval : config.DataLoader?.Train)
                ?? throw new ConfigException($"DataLoader.{which}: the config has no such loader to measure");
            int n = parse.GetValue(batches), k = parse.GetValue(maxWorkers);
            if (n < 1) throw new ConfigException($"--batches must be at least 1, got {n}");
            if (k < 1) throw new ConfigException($"--max-workers must be at least 1, got {k}");
            var factory = new DataLoaderFactory(DataCatalog.CreateRegistry());
            var error = parse.InvocationConfiguration.Error;
            foreach (var notice in notices) error.WriteLine(notice);
            foreach (var m in DataBenchmark.Run(factory, loader, config.Arch.ClassNum, config.Global.Seed ?? 0, n, k, error.WriteLine))
                output.WriteLine(m.ToLine(config.Arch.Name).ToJson());
        });
        return command;
    }
}
