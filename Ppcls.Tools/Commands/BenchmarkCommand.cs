using Ppcls.Core.Checkpoint;
using System.CommandLine;
using System.Diagnostics;
using Ppcls.Core.Models;
using Ppcls.Core;
using Ppcls.Core.Native;
using Ppcls.Tools.Benchmarks;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>
/// `ppcls benchmark train|step|malloc|data`: throughput measurements that print ratios measured
/// in one run, as JSON lines sharing the fields of <see cref="BenchmarkLine"/>.
/// </summary>
public static class BenchmarkCommand
{
    sealed class StepOptions
    {
        public Option<string> Model { get; } = new("--model") { Description = "zoo model name", DefaultValueFactory = _ => "MobileNetV2" };
        public Option<int> BatchSize { get; } = new("--batch-size") { Description = "images per step", DefaultValueFactory = _ => 32 };
        public Option<int> ImageSize { get; } = new("--image-size") { Description = "square input size", DefaultValueFactory = _ => 224 };
        public Option<int> Steps { get; } = new("--steps") { Description = "timed steps after one warm-up step", DefaultValueFactory = _ => 5 };
        public Option<string> MemoryFormat { get; } = new("--memory-format") { Description = "channels_last (NHWC) or contiguous (NCHW)", DefaultValueFactory = _ => "channels_last" };

        public void AddTo(Command c)
        {
            c.Add(Model);
            c.Add(BatchSize);
            c.Add(ImageSize);
            c.Add(Steps);
            c.Add(MemoryFormat);
        }

        public Core.Config.Sections.MemoryFormat Format(ParseResult p) => p.GetValue(MemoryFormat) switch
        {
            "channels_last" => Core.Config.Sections.MemoryFormat.ChannelsLast,
            "contiguous" => Core.Config.Sections.MemoryFormat.Contiguous,
            var other => throw new PpclsUserException($"--memory-format: '{other}' is not a memory format; use channels_last or contiguous"),
        };

        public string[] Arguments(ParseResult p) =>
        [
            "--model", p.GetValue(Model)!, "--batch-size", p.GetValue(BatchSize).ToString(),
            "--image-size", p.GetValue(ImageSize).ToString(), "--steps", p.GetValue(Steps).ToString(),
            "--memory-format", p.GetValue(MemoryFormat)!,
        ];
    }

    public static Command Build()
    {
        var command = new Command("benchmark",
            "Measure training-step speed and memory, the data pipeline, and inference (TorchSharp vs ONNX Runtime); comparisons are measured side by side in one run.\n\n" +
            "Example:\n  ppcls benchmark train -c configs/quick_start/PPLCNet_x0_25_demo.yaml --iters 20");
        command.Add(TrainBenchmarkCommand.Build());
        command.Add(BuildStep());
        command.Add(BuildMalloc());
        command.Add(BuildProfile());
        command.Add(DataBenchmarkCommand.Build());
        command.Add(BuildInfer());
        command.Add(DistBenchmarkCommand.Build());
        command.Add(ServeBenchmarkCommand.Build());
        return command;
    }

    static Command BuildInfer()
    {
        var config = new ConfigOptions();
        var batchSizes = new Option<string>("--batch-sizes") { Description = "comma-separated batch sizes", DefaultValueFactory = _ => "1,8" };
        var imageSize = new Option<int?>("--image-size") { Description = "square input size (default: Global.image_shape's height)" };
        var runs = new Option<int>("--runs") { Description = "timed forward passes per figure (at least; also at least 2 s)", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "untimed forward passes before each figure", DefaultValueFactory = _ => 3 };
        var infer = new Command("infer",
            "Inference latency and throughput of the config's model in one run: TorchSharp eager (unfused), TorchSharp fused " +
            "(rep branches merged, BN folded) and ONNX Runtime on the exported file; one JSON line per figure (median of many " +
            "passes after warm-up), then the speed-up ratios. Uses Global.pretrained_model when set, else random weights.\n\n" +
            "Example:\n  ppcls benchmark infer -c configs/ImageNet/PPLCNet/PPLCNet_x1_0.yaml --batch-sizes 1,8 --image-size 224");
        config.AddTo(infer);
        infer.Add(batchSizes);
        infer.Add(imageSize);
        infer.Add(runs);
        infer.Add(warmup);
        infer.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var setup = RunSetup.Prepare(config.Load(parse), "benchmark.log");
            var c = setup.Config;
            var batches = ParseSizes(parse.GetValue(batchSizes)!);
            int size = parse.GetValue(imageSize) ?? c.Global.ImageShape[1];
            if (size < 16) throw new PpclsUserException($"--image-size must be at least 16, got {size}");
            if (ConfiguredWeights.ModelLevel(setup.Built, c).Count > 0) setup.LoadTrainedWeights();
            var timings = new List<InferenceTiming>();
            foreach (var timing in InferenceBenchmark.Run(c.Arch.Name, InferenceModel.Of(setup.Model), c.Arch.ClassNum, size, batches,
                         Math.Max(0, parse.GetValue(warmup)), Math.Max(1, parse.GetValue(runs)), minSeconds: 2.0))
            {
                output.WriteLine(timing.ToJson());
                timings.Add(timing);
            }
            foreach (var line in InferenceBenchmark.Ratios(timings)) output.WriteLine(line);
        });
        return infer;
    }

    static IReadOnlyList<int> ParseSizes(string text)
    {
        var sizes = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            sizes.Add(int.TryParse(part, out int n) && n >= 1 ? n : throw new PpclsUserException($"--batch-sizes: '{part}' is not a batch size (use e.g. 1,8)"));
        return sizes.Count > 0 ? sizes : throw new PpclsUserException("--batch-sizes: give at least one batch size, e.g. 1,8");
    }

    static Command BuildStep()
    {
        var options = new StepOptions();
        var bfloat16 = new Option<bool>("--bfloat16") { Description = "weights and images in bfloat16 (no float32 master copy): the speed of this CPU's bf16 kernels" };
        var step = new Command("step", "Time forward+backward+SGD steps of a zoo model on random data in this process (no config, no Trainer); " +
            "prints one JSON line: median and mean ms/step, samples/s, peak RSS.");
        options.AddTo(step);
        step.Add(bfloat16);
        step.SetAction(parse =>
        {
            var result = TrainStepBenchmark.Run(parse.GetValue(options.Model)!, parse.GetValue(options.BatchSize),
                parse.GetValue(options.ImageSize), parse.GetValue(options.Steps), options.Format(parse), parse.GetValue(bfloat16));
            parse.InvocationConfiguration.Output.WriteLine(result.ToLine().ToJson());
        });
        return step;
    }

    static Command BuildProfile()
    {
        var options = new StepOptions();
        var profile = new Command("profile",
            "Where a train step's time goes, per op: each leaf layer's call replayed alone (forward, backward; median of --steps repeats), " +
            "summed per kind, largest first (phase op), then the whole step measured in the same process (phase step) and the time no " +
            "layer accounts for: residual adds, functional activations, loss, SGD (phase unattributed).");
        options.AddTo(profile);
        profile.SetAction(parse =>
        {
            foreach (var line in OpProfile.Lines(parse.GetValue(options.Model)!, parse.GetValue(options.BatchSize),
                         parse.GetValue(options.ImageSize), parse.GetValue(options.Steps), options.Format(parse)))
                parse.InvocationConfiguration.Output.WriteLine(line.ToJson());
        });
        return profile;
    }

    static Command BuildMalloc()
    {
        var options = new StepOptions();
        var malloc = new Command("malloc",
            "Run 'benchmark step' in fresh processes on each allocator setting: jemalloc (when this process runs on it, as ./ppcls " +
            $"starts it where libjemalloc2 is installed), glibc with the tuning ({MallocTuning.OptOutVariable}=glibc), glibc defaults " +
            $"({MallocTuning.OptOutVariable}=0); prints a JSON line for each (phases malloc_jemalloc, malloc_glibc, malloc_off) and " +
            "ratio lines (phase A/B: ratio = speed-up of A over B).");
        options.AddTo(malloc);
        malloc.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            string[] settings = MallocTuning.OnJemalloc ? ["jemalloc", "glibc", "off"] : ["glibc", "off"];
            (string, string)[] ratios = MallocTuning.OnJemalloc ? [("jemalloc", "glibc"), ("glibc", "off"), ("jemalloc", "off")] : [("glibc", "off")];
            var results = settings.ToDictionary(s => s, s => RunChild(options.Arguments(parse), s));
            foreach (var (setting, result) in results) output.WriteLine(result.ToLine($"malloc_{setting}").ToJson());
            // A ratio line repeats its numerator's figures and adds the ratios.
            foreach (var (a, b) in ratios)
                output.WriteLine(results[a].ToLine($"malloc_{a}/malloc_{b}")
                    .With("ratio", results[a].SamplesPerSecond / results[b].SamplesPerSecond)
                    .With("median_ratio", results[b].MedianMs / results[a].MedianMs)
                    .With("peak_rss_ratio", (double)results[a].PeakResidentBytes / results[b].PeakResidentBytes).ToJson());
        });
        return malloc;
    }

    /// <summary>
    /// One `benchmark step` in a fresh process on an allocator setting: "jemalloc" inherits this
    /// process's preload; "glibc" and "off" drop jemalloc from LD_PRELOAD.
    /// </summary>
    static TrainStepResult RunChild(string[] stepArguments, string setting)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        // Under `dotnet ppcls.dll` the process path is dotnet itself: pass the entry assembly first.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            start.ArgumentList.Add(typeof(BenchmarkCommand).Assembly.Location);
        foreach (var a in (string[])["benchmark", "step", .. stepArguments]) start.ArgumentList.Add(a);
        start.Environment[MallocTuning.OptOutVariable] = setting switch { "jemalloc" => "1", "glibc" => "glibc", _ => "0" };
        if (setting != "jemalloc" && start.Environment.TryGetValue("LD_PRELOAD", out var preload) && preload is not null)
            start.Environment["LD_PRELOAD"] = string.Join(':', preload.Split(':').Where(lib => !lib.Contains("libjemalloc")));
        using var child = Process.Start(start)!;
        string stdout = child.StandardOutput.ReadToEnd();
        string stderr = child.StandardError.ReadToEnd();
        child.WaitForExit();
        return stdout.Split('\n').Select(TrainStepResult.Parse).LastOrDefault(r => r is not null)
            ?? throw new PpclsUserException($"benchmark step (malloc {setting}) failed with exit code {child.ExitCode}: {stderr.Trim()}");
    }
}
