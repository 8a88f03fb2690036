using Ppcls.Inference;

namespace Ppcls.Serving;

/// <summary>
/// How `ppcls serve` listens and batches. The paths of PaddleClas's two serving protocols are options so that a
/// client configured for another module or service name works unchanged.
/// </summary>
public sealed record ServeOptions
{
    /// <summary>Address to bind; anything but loopback prints a warning (see <see cref="IsLoopback"/>).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (the bound address is reported once the server runs).</summary>
    public int Port { get; init; } = 8866;

    /// <summary>The most images one model run takes.</summary>
    public int MaxBatch { get; init; } = 8;

    /// <summary>How long the first image of a batch waits for others before the batch runs.</summary>
    public int MaxWaitMs { get; init; } = 5;

    /// <summary>The most images waiting for the model; a request that would pass it is answered 503 with Retry-After.</summary>
    public int QueueCapacity { get; init; } = 256;

    /// <summary>The largest request body, in bytes; a larger one is answered 413.</summary>
    public long MaxRequestBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>When set, every request must carry it (X-Api-Key header, `Authorization: Bearer`, or `api_key` in the query); 401 otherwise.</summary>
    public string? ApiKey { get; init; }

    /// <summary>PaddleHub serving's path (`/predict/&lt;module name&gt;`, clas_system in PaddleClas's hubserving).</summary>
    public string HubServingPath { get; init; } = "/predict/clas_system";

    /// <summary>Paddle Serving's pipeline path (`/&lt;service name&gt;/prediction`, imagenet in PaddleClas's paddleserving).</summary>
    public string PipelinePath { get; init; } = "/imagenet/prediction";

    /// <summary>How long a stopping server waits for the requests in flight.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Every option in range, or one line naming the option.</summary>
    public void Validate()
    {
        if (Port is < 0 or > 65535) throw new UserInputException($"--port: must be 0 .. 65535, got {Port}");
        if (MaxBatch < 1) throw new UserInputException($"--max-batch: must be at least 1, got {MaxBatch}");
        if (MaxWaitMs < 0) throw new UserInputException($"--max-wait-ms: must be 0 or more, got {MaxWaitMs}");
        if (QueueCapacity < MaxBatch) throw new UserInputException($"--queue: must be at least --max-batch ({MaxBatch}), got {QueueCapacity}");
        if (MaxRequestBytes < 1024) throw new UserInputException($"--max-request-bytes: must be at least 1024, got {MaxRequestBytes}");
        foreach (var (path, option) in new[] { (HubServingPath, "--hub-path"), (PipelinePath, "--pipeline-path") })
            if (!path.StartsWith('/') || path.Length < 2) throw new UserInputException($"{option}: must be a path starting with '/', got '{path}'");
    }

    /// <summary>The host names only this machine can reach.</summary>
    public bool IsLoopback => Host is "localhost" || (System.Net.IPAddress.TryParse(Host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
}
