using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Ppcls.Core;
using Ppcls.Core.Distributed;
using Ppcls.Core.Logging;
using Ppcls.Tools.Benchmarks;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>
/// `ppcls benchmark dist -c CONFIG [--ranks 1,2]`: data-parallel throughput. Started by hand it runs
/// one job per rank count (1 alone, more under `mpirun -np N --oversubscribe`), each timing the
/// Trainer's step at the config's per-rank batch, then prints their lines and the speed-up.
/// Started under mpirun it times the job it is in.
/// </summary>
public static class DistBenchmarkCommand
{
    /// <summary>Set in the jobs this command starts, so they time themselves instead of starting jobs.</summary>
    const string JobVariable = "PPCLS_BENCHMARK_DIST_JOB";

    public static Command Build()
    {
        var options = new ConfigOptions();
        var ranks = new Option<string>("--ranks") { Description = "comma-separated rank counts, one job each", DefaultValueFactory = _ => "1,2" };
        var iters = new Option<int>("--iters") { Description = "timed training steps per job (of each kind with more than one rank)", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps before them", DefaultValueFactory = _ => 3 };
        var command = new Command("dist",
            "Time data-parallel training on this machine: for each rank count, the Trainer's step on the config's per-rank batch held in " +
            "memory, with the gradient all-reduce over Open MPI, its steps alternating between the all-reduce started during backward " +
            "and after it (one JSON line per rank count: samples/s of the whole job, ms per step of each kind, the all-reduce's ms and " +
            "what stays exposed after backward, when each bucket starts), then the speed-up over the first. " +
            "Log lines go to standard error; nothing is written.\n\n" +
            "Example:\n  ppcls benchmark dist -c configs/quick_start/PPLCNet_x0_25_demo.yaml -o Arch.name=PPHGNetV2_B4 --ranks 1,2 --iters 10");
        options.AddTo(command);
        command.Add(ranks);
        command.Add(iters);
        command.Add(warmup);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var world = World.Current;
            if (World.LaunchedByMpirun || Environment.GetEnvironmentVariable(JobVariable) == "1")
            {
                LogsToStandardError.While(error, () =>
                {
                    var line = DistributedBenchmark.Run(RunSetup.Prepare(options.Load(parse), logName: null), world, parse.GetValue(iters), parse.GetValue(warmup));
                    if (world.Rank == 0) output.WriteLine(line.ToJson());
                });
                return;
            }
            string[] forwarded =
            [
                "-c", parse.GetRequiredValue(options.Config),
                .. (parse.GetValue(options.Overrides) ?? []).SelectMany(o => new[] { "-o", o }),
                "--iters", parse.GetValue(iters).ToString(), "--warmup", parse.GetValue(warmup).ToString(),
            ];
            var lines = new List<string>();
            foreach (int count in ParseRanks(parse.GetValue(ranks)!))
            {
                string line = RunJob(count, forwarded, error);
                output.WriteLine(line);
                lines.Add(line);
            }
            for (int i = 1; i < lines.Count; i++) output.WriteLine(Speedup(lines[i], lines[0]));
        });
        return command;
    }

    static IReadOnlyList<int> ParseRanks(string text)
    {
        var counts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => int.TryParse(part, out int n) && n >= 1 ? n : throw new PpclsUserException($"--ranks: '{part}' is not a rank count (use e.g. 1,2)"))
            .ToList();
        return counts.Count > 0 ? counts : throw new PpclsUserException("--ranks: give at least one rank count, e.g. 1,2");
    }

    /// <summary>Runs this command as a job of <paramref name="ranks"/> ranks; returns its JSON line, passing its log lines on.</summary>
    static string RunJob(int ranks, string[] arguments, TextWriter error)
    {
        string self = Environment.ProcessPath!;
        // Under `dotnet ppcls.dll` the process path is dotnet itself: pass the entry assembly first.
        string[] program = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [self, typeof(DistBenchmarkCommand).Assembly.Location] : [self];
        string[] launcher = ranks == 1 ? [] :
        [
            FindMpirun() ?? throw new PpclsUserException("benchmark dist: mpirun not found; install Open MPI (apt-get install openmpi-bin libopenmpi3, as scripts/setup.sh does)"),
            "-np", ranks.ToString(), "--oversubscribe", .. Environment.UserName == "root" ? ["--allow-run-as-root"] : Array.Empty<string>(),
        ];
        string[] command = [.. launcher, .. program, "benchmark", "dist", .. arguments];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command.Skip(1)) start.ArgumentList.Add(a);
        start.Environment[JobVariable] = "1";
        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        error.Write(stderr.Result);
        // A rank's console may put terminal codes before the line: the JSON starts at its first brace.
        return stdout.Split('\n').LastOrDefault(l => l.Contains("{\"model\"")) is { } line && child.ExitCode == 0
            ? line[line.IndexOf("{\"model\"", StringComparison.Ordinal)..].Trim()
            : throw new PpclsUserException($"benchmark dist on {ranks} rank(s) failed with exit code {child.ExitCode}; its messages are above");
    }

    /// <summary>The ratio line: repeats the numerator's figures and adds the speed-up and the scaling efficiency.</summary>
    static string Speedup(string line, string baseline)
    {
        using var many = JsonDocument.Parse(line);
        using var one = JsonDocument.Parse(baseline);
        var m = many.RootElement;
        var b = one.RootElement;
        double speedup = m.GetProperty("samples_per_s").GetDouble() / b.GetProperty("samples_per_s").GetDouble();
        int ranks = m.GetProperty("ranks").GetInt32(), baseRanks = b.GetProperty("ranks").GetInt32();
        return new BenchmarkLine(m.GetProperty("model").GetString()!, $"ranks_{ranks}/ranks_{baseRanks}", m.GetProperty("size").GetInt32(),
                m.GetProperty("batch").GetInt32(), m.GetProperty("threads").GetInt32())
            { SamplesPerSecond = m.GetProperty("samples_per_s").GetDouble(), MedianMs = m.GetProperty("median_ms").GetDouble() }
            .With("speedup", speedup).With("efficiency", speedup * baseRanks / ranks).ToJson();
    }

    static string? FindMpirun() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "mpirun")).FirstOrDefault(File.Exists);
}
