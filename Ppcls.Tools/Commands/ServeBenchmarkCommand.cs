using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Ppcls.Core;
using Ppcls.Core.Deploy;
using Ppcls.Inference;
using Ppcls.Serving;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>
/// `ppcls benchmark serve`: the exported folder served on a loopback port, hit by 1, 8 and 32 concurrent clients
/// (raw image bodies to POST /predict), bounded in requests and seconds per level; requests/s and p50/p99 latency per
/// level, and, measured in the same run, the in-process batched predictor's images/s on the same image and the ratio.
/// </summary>
public static class ServeBenchmarkCommand
{
    public static Command Build()
    {
        var config = new ConfigOptions();
        var image = new Option<string?>("--image") { Description = "the image every request sends (default: the first of Global.infer_imgs)" };
        var levels = new Option<string>("--concurrency") { Description = "comma-separated client counts", DefaultValueFactory = _ => "1,8,32" };
        var requests = new Option<int>("--requests") { Description = "most requests per level", DefaultValueFactory = _ => 400 };
        var seconds = new Option<double>("--seconds") { Description = "most seconds per level", DefaultValueFactory = _ => 15 };
        var maxBatch = new Option<int>("--max-batch") { Description = "the server's micro-batch (and the in-process batch)", DefaultValueFactory = _ => 32 };
        var maxWait = new Option<int>("--max-wait-ms") { Description = "the server's batch wait", DefaultValueFactory = _ => 5 };
        var command = new Command("serve",
            "Throughput and latency of 'ppcls serve' on loopback at several concurrencies, against the in-process batched predictor in the same run.\n\n" +
            "Example:\n  ppcls benchmark serve -c configs/inference_cls.yaml -o Global.inference_model_dir=inference --image dataset/demo/images/0.jpg");
        config.AddTo(command);
        foreach (var option in new Option[] { image, levels, requests, seconds, maxBatch, maxWait }) command.Add(option);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var deploy = DeployConfig.Load(parse.GetRequiredValue(config.Config), parse.GetValue(config.Overrides) ?? [], m => parse.InvocationConfiguration.Error.WriteLine($"notice: {m}"));
            string file = parse.GetValue(image) ?? ImageList.Collect(deploy.InferImgs ?? throw new PpclsUserException("--image: not set; pass --image IMAGE (or -o Global.infer_imgs=...)"), "Global.infer_imgs")[0];
            var concurrency = parse.GetValue(levels)!.Split(',').Select(s => int.TryParse(s, out int c) && c > 0 ? c : throw new PpclsUserException($"--concurrency: '{s}' is not a positive count")).ToArray();
            int most = parse.GetValue(requests);
            double limit = parse.GetValue(seconds);
            if (most < 1 || limit <= 0) throw new PpclsUserException("--requests and --seconds: must be positive");
            int batch = parse.GetValue(maxBatch);
            using var folder = ExportedFolder.Open(deploy, _ => { });
            var options = new ServeOptions { Host = "127.0.0.1", Port = 0, MaxBatch = batch, MaxWaitMs = parse.GetValue(maxWait), QueueCapacity = Math.Max(1024, batch) };
            Run(folder, options, File.ReadAllBytes(file), file, concurrency, most, TimeSpan.FromSeconds(limit), output).GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }

    static async Task Run(ExportedFolder folder, ServeOptions options, byte[] image, string file, int[] levels, int most, TimeSpan limit, TextWriter output)
    {
        double inProcess = InProcess(folder, file, options.MaxBatch, most, limit);
        output.WriteLine($"in-process batched predictor (batch {options.MaxBatch}): {inProcess:F1} images/s");
        var model = new ServedModel(folder.Name, folder.Preprocessor, folder.Run, folder.PostProcess, folder.Model.InputDimensions, null);
        await using var server = await ServingHost.StartAsync(model, options, TextWriter.Null);
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(120) };
        await Post(http, image); // warm-up
        double last = 0;
        foreach (int clients in levels)
        {
            var (count, elapsed, latencies) = await Level(http, image, clients, most, limit);
            latencies.Sort();
            last = count / elapsed;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"concurrency {clients,2}: {count} requests in {elapsed:F1} s, {last:F1} requests/s, p50 {Percentile(latencies, 0.50):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"served / in-process at concurrency {levels[^1]}: {last / inProcess:F2} (goal >= 0.80)"));
    }

    /// <summary>Images/s of the predict path in this process: decode, preprocess and run in batches, up to <paramref name="most"/> images or the time limit.</summary>
    static double InProcess(ExportedFolder folder, string file, int batch, int most, TimeSpan limit)
    {
        var classifier = new BatchClassifier(folder.Preprocessor, folder.Run, folder.PostProcess, batch);
        foreach (var _ in classifier.Run([file], _ => { })) { } // warm-up
        var clock = Stopwatch.StartNew();
        int done = 0;
        while (done < most && clock.Elapsed < limit)
            foreach (var results in classifier.Run(Enumerable.Repeat(file, Math.Min(batch, most - done)).ToList(), _ => { }))
                done += results.Count;
        return done / clock.Elapsed.TotalSeconds;
    }

    static async Task<(int Count, double Seconds, List<double> Latencies)> Level(HttpClient http, byte[] image, int clients, int most, TimeSpan limit)
    {
        int issued = 0;
        var latencies = new List<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (Interlocked.Increment(ref issued) <= most && clock.Elapsed < limit)
            {
                var start = Stopwatch.GetTimestamp();
                await Post(http, image);
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                lock (latencies) latencies.Add(ms);
            }
        }));
        return (latencies.Count, clock.Elapsed.TotalSeconds, latencies);
    }

    static async Task Post(HttpClient http, byte[] image)
    {
        var body = new ByteArrayContent(image);
        body.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var response = await http.PostAsync("/predict", body);
        if (!response.IsSuccessStatusCode) throw new PpclsUserException($"POST /predict answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
