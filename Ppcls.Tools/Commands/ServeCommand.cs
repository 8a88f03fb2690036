using System.CommandLine;
using System.Text.Json.Nodes;
using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Core.Deploy;
using Ppcls.Serving;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>
/// `ppcls serve -c configs/inference_cls.yaml -o Global.inference_model_dir=DIR [--host 127.0.0.1] [--port 8866]`: the
/// exported folder, opened as `ppcls predict` opens it (<see cref="ExportedFolder"/>), behind Ppcls.Serving's REST server
/// and web page until SIGTERM or Ctrl+C, which lets the requests in flight finish and exits 0.
/// </summary>
public static class ServeCommand
{
    public static Command Build()
    {
        var config = new ConfigOptions();
        var defaults = new ServeOptions();
        var host = new Option<string>("--host") { Description = "address to bind (anything but loopback prints a warning)", DefaultValueFactory = _ => defaults.Host };
        var port = new Option<int>("--port") { Description = "TCP port (0: a free one)", DefaultValueFactory = _ => defaults.Port };
        var maxBatch = new Option<int>("--max-batch") { Description = "most images per model run (micro-batching)", DefaultValueFactory = _ => defaults.MaxBatch };
        var maxWait = new Option<int>("--max-wait-ms") { Description = "how long the first image of a batch waits for others", DefaultValueFactory = _ => defaults.MaxWaitMs };
        var queue = new Option<int>("--queue") { Description = "most images waiting for the model; beyond it requests get 503 with Retry-After", DefaultValueFactory = _ => defaults.QueueCapacity };
        var maxBytes = new Option<long>("--max-request-bytes") { Description = "largest request body (413 above it)", DefaultValueFactory = _ => defaults.MaxRequestBytes };
        var apiKey = new Option<string?>("--api-key") { Description = "require this key on every request (X-Api-Key header, Authorization: Bearer, or ?api_key=)" };
        var hubPath = new Option<string>("--hub-path") { Description = "PaddleHub serving's path", DefaultValueFactory = _ => defaults.HubServingPath };
        var pipelinePath = new Option<string>("--pipeline-path") { Description = "Paddle Serving's pipeline path", DefaultValueFactory = _ => defaults.PipelinePath };
        var command = new Command("serve",
            "Serve an exported model folder over HTTP (ONNX Runtime, no TorchSharp): POST /predict (multipart 'image', image/* body, or JSON base64 " +
            "'images'), PaddleHub's /predict/clas_system and Paddle Serving's /imagenet/prediction, GET /health, /model, /metrics and a web page at /.\n\n" +
            "Example:\n  ppcls serve -c configs/inference_cls.yaml -o Global.inference_model_dir=inference --port 8866");
        config.AddTo(command);
        foreach (var option in new Option[] { host, port, maxBatch, maxWait, queue, maxBytes, apiKey, hubPath, pipelinePath }) command.Add(option);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            void Notice(string message) => error.WriteLine($"notice: {message}");
            var options = new ServeOptions
            {
                Host = parse.GetValue(host)!, Port = parse.GetValue(port), MaxBatch = parse.GetValue(maxBatch), MaxWaitMs = parse.GetValue(maxWait),
                QueueCapacity = parse.GetValue(queue), MaxRequestBytes = parse.GetValue(maxBytes), ApiKey = parse.GetValue(apiKey),
                HubServingPath = parse.GetValue(hubPath)!, PipelinePath = parse.GetValue(pipelinePath)!,
            };
            options.Validate();
            var deploy = DeployConfig.Load(parse.GetRequiredValue(config.Config), parse.GetValue(config.Overrides) ?? [], Notice);
            using var folder = ExportedFolder.Open(deploy, Notice);
            var model = new ServedModel(folder.Name, folder.Preprocessor, folder.Run, folder.PostProcess, folder.Model.InputDimensions, Json(folder.Ops));
            Serve(model, options, output, error).GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }

    static async Task Serve(ServedModel model, ServeOptions options, TextWriter output, TextWriter error)
    {
        var server = await ServingHost.StartAsync(model, options, error).ConfigureAwait(false);
        await using (server.ConfigureAwait(false))
        {
            output.WriteLine($"serving {model.Name} at {server.Address} (POST /predict, {options.HubServingPath}, {options.PipelinePath}; GET / /health /model /metrics); SIGTERM or Ctrl+C stops");
            output.Flush();
            await server.WaitForShutdownAsync().ConfigureAwait(false);
        }
        output.WriteLine("stopped: the requests in flight were answered");
    }

    /// <summary>The op list as JSON for GET /model: `[{"ResizeImage": {"resize_short": 256}}, ...]`.</summary>
    public static JsonArray Json(IReadOnlyList<NamedEntry> ops) =>
        new([.. ops.Select(op => (JsonNode?)new JsonObject { [op.Name] = Json(op.Options.Map) })]);

    static JsonNode? Json(ConfigNode node) => node switch
    {
        ConfigMap map => new JsonObject(map.Entries.Select(e => new KeyValuePair<string, JsonNode?>(e.Key, Json(e.Value)))),
        ConfigList list => new JsonArray([.. list.Items.Select(Json)]),
        ConfigScalar { IsNull: true } => null,
        ConfigScalar s when !s.Quoted && s.TryLong(out long l) => l,
        ConfigScalar s when !s.Quoted && s.TryDouble(out double d) => d,
        ConfigScalar s when !s.Quoted && s.TryBool(out bool b) => b,
        ConfigScalar s => s.Text,
        _ => null,
    };
}
