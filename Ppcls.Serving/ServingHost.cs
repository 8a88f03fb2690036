using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ppcls.Inference;

namespace Ppcls.Serving;

/// <summary>
/// `ppcls serve`: Kestrel with minimal APIs over a <see cref="ServedModel"/>. Routes: POST /predict, PaddleHub's and
/// Paddle Serving's paths (<see cref="PaddleProtocols"/>), GET /health, /model, /metrics and the page at /. Every
/// request is counted in <see cref="ServingMetrics"/>, checked against the API key when one is set, and refused with
/// 413 above the size limit; a full queue answers 503 with Retry-After. Stopping (SIGTERM, Ctrl+C) lets the requests
/// in flight finish, then runs what is queued.
/// </summary>
public sealed class ServingHost : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly MicroBatcher _batcher;

    ServingHost(WebApplication app, MicroBatcher batcher, Uri address)
    {
        (_app, _batcher, Address) = (app, batcher, address);
    }

    /// <summary>Where the server listens (the port resolved when 0 was asked for).</summary>
    public Uri Address { get; }

    public static async Task<ServingHost> StartAsync(ServedModel model, ServeOptions options, TextWriter log)
    {
        options.Validate();
        if (!options.IsLoopback)
            log.WriteLine($"warning: --host {options.Host} makes the server reachable from other machines; " +
                (options.ApiKey is null ? "set --api-key, or bind 127.0.0.1" : "requests need the API key"));
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Ppcls.Serving", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            if (options.Host == "localhost") kestrel.ListenLocalhost(options.Port);
            else if (options.Host is "*" or "0.0.0.0") kestrel.ListenAnyIP(options.Port);
            else if (IPAddress.TryParse(options.Host, out var ip)) kestrel.Listen(ip, options.Port);
            else throw new UserInputException($"--host: '{options.Host}' is not an IP address or localhost");
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.DrainTimeout);
        builder.Services.Configure<FormOptions>(form => form.MultipartBodyLengthLimit = options.MaxRequestBytes);

        var metrics = new ServingMetrics();
        var batcher = new MicroBatcher(model.Run, options.MaxBatch, TimeSpan.FromMilliseconds(options.MaxWaitMs), options.QueueCapacity, metrics);
        var classifier = new RequestClassifier(model, batcher);
        var app = builder.Build();
        app.Use((context, next) => Guard(context, next, options, metrics));
        app.MapPost("/predict", (Delegate)((HttpContext c) => PredictEndpoint.HandleAsync(c, classifier)));
        app.MapPost(options.HubServingPath, (Delegate)((HttpContext c) => PaddleProtocols.HubServingAsync(c, classifier)));
        app.MapPost(options.PipelinePath, (Delegate)((HttpContext c) => PaddleProtocols.PipelineAsync(c, classifier)));
        app.MapGet("/health", () => Results.Json(new JsonObject { ["status"] = "ok", ["model"] = model.Name }));
        app.MapGet("/model", () => Results.Json(model.Describe()));
        app.MapGet("/metrics", () => Results.Text(metrics.ToPrometheusText(batcher.Queued), "text/plain; version=0.0.4"));
        app.MapGet("/", () => Results.Text(WebPage.Html, "text/html; charset=utf-8"));
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await batcher.DisposeAsync().ConfigureAwait(false);
            throw new UserInputException($"--port: cannot listen on {options.Host}:{options.Port}: {e.Message}");
        }
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ServingHost(app, batcher, new Uri(bound.Replace("://[::]", "://localhost").Replace("://0.0.0.0", "://localhost")));
    }

    /// <summary>Timing and counting, the API key, the size limit, and the answers for a full queue, an oversized body or bad input.</summary>
    static async Task Guard(HttpContext context, RequestDelegate next, ServeOptions options, ServingMetrics metrics)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            if (options.ApiKey is { } key && !HasKey(context.Request, key))
                await Error(context, StatusCodes.Status401Unauthorized, "missing or wrong API key; send it in the X-Api-Key header (or Authorization: Bearer KEY)").ConfigureAwait(false);
            else if (context.Request.ContentLength > options.MaxRequestBytes)
                await Error(context, StatusCodes.Status413PayloadTooLarge, $"the request has {context.Request.ContentLength} bytes, more than the server's limit of {options.MaxRequestBytes} (--max-request-bytes)").ConfigureAwait(false);
            else
                await next(context).ConfigureAwait(false);
        }
        catch (QueueFullException e)
        {
            context.Response.Headers.RetryAfter = "1";
            await Error(context, StatusCodes.Status503ServiceUnavailable, e.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            await Error(context, e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"the request is larger than the server's limit of {options.MaxRequestBytes} bytes (--max-request-bytes)" : e.Message).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            await Error(context, StatusCodes.Status413PayloadTooLarge, $"{e.Message} (--max-request-bytes {options.MaxRequestBytes})").ConfigureAwait(false);
        }
        catch (UserInputException e)
        {
            await Error(context, StatusCodes.Status400BadRequest, e.Message).ConfigureAwait(false);
        }
        finally
        {
            string endpoint = context.GetEndpoint() is RouteEndpoint route ? route.RoutePattern.RawText ?? "other" : "other";
            metrics.ObserveRequest(endpoint, context.Response.StatusCode, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
    }

    static bool HasKey(HttpRequest request, string key) =>
        request.Headers["X-Api-Key"].FirstOrDefault() == key
        || request.Headers.Authorization.FirstOrDefault() == "Bearer " + key
        || request.Query["api_key"].FirstOrDefault() == key;

    static Task Error(HttpContext context, int status, string message)
    {
        if (context.Response.HasStarted) return Task.CompletedTask;
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new JsonObject { ["error"] = message });
    }

    /// <summary>Returns when the server has been told to stop (SIGTERM, Ctrl+C) and the requests in flight are answered.</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _batcher.DisposeAsync().ConfigureAwait(false);
    }
}
