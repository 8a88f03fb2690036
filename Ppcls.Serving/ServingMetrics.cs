using System.Globalization;
using System.Text;

namespace Ppcls.Serving;

/// <summary>
/// The counters GET /metrics shows in Prometheus's text format: requests and errors by endpoint and status,
/// a request latency histogram, a histogram of the model's batch sizes, images classified and the queue depth.
/// </summary>
public sealed class ServingMetrics
{
    static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    static readonly double[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128];

    readonly Lock _lock = new();
    readonly SortedDictionary<(string Endpoint, int Status), long> _requests = [];
    readonly Histogram _latency = new(LatencyBuckets);
    readonly Histogram _batches = new(BatchBuckets);
    long _images;

    /// <summary>One answered request: its endpoint (the route, not the raw path), status and time.</summary>
    public void ObserveRequest(string endpoint, int status, double seconds)
    {
        lock (_lock)
        {
            _requests[(endpoint, status)] = _requests.GetValueOrDefault((endpoint, status)) + 1;
            _latency.Observe(seconds);
        }
    }

    /// <summary>One model run of <paramref name="size"/> images.</summary>
    public void ObserveBatch(int size)
    {
        lock (_lock)
        {
            _batches.Observe(size);
            _images += size;
        }
    }

    /// <summary>The exposition text (version 0.0.4).</summary>
    public string ToPrometheusText(int queued)
    {
        var text = new StringBuilder();
        lock (_lock)
        {
            text.Append("# HELP ppcls_requests_total Requests answered, by endpoint and HTTP status.\n# TYPE ppcls_requests_total counter\n");
            foreach (var ((endpoint, status), count) in _requests)
                text.Append(CultureInfo.InvariantCulture, $"ppcls_requests_total{{endpoint=\"{endpoint}\",code=\"{status}\"}} {count}\n");
            text.Append("# HELP ppcls_request_errors_total Requests answered with a 4xx or 5xx status, by endpoint.\n# TYPE ppcls_request_errors_total counter\n");
            foreach (var group in _requests.Where(kv => kv.Key.Status >= 400).GroupBy(kv => kv.Key.Endpoint))
                text.Append(CultureInfo.InvariantCulture, $"ppcls_request_errors_total{{endpoint=\"{group.Key}\"}} {group.Sum(kv => kv.Value)}\n");
            _latency.Write(text, "ppcls_request_duration_seconds", "Time from a request's arrival to its answer.");
            _batches.Write(text, "ppcls_batch_size", "Images per model run.");
            text.Append(CultureInfo.InvariantCulture, $"# HELP ppcls_images_total Images classified.\n# TYPE ppcls_images_total counter\nppcls_images_total {_images}\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"# HELP ppcls_queue_images Images waiting for the model.\n# TYPE ppcls_queue_images gauge\nppcls_queue_images {queued}\n");
        return text.ToString();
    }

    sealed class Histogram(double[] bounds)
    {
        readonly long[] _counts = new long[bounds.Length];
        long _count;
        double _sum;

        public void Observe(double value)
        {
            for (int i = 0; i < bounds.Length; i++)
                if (value <= bounds[i]) _counts[i]++;
            _count++;
            _sum += value;
        }

        public void Write(StringBuilder text, string name, string help)
        {
            text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} histogram\n");
            for (int i = 0; i < bounds.Length; i++)
                text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"{bounds[i].ToString(CultureInfo.InvariantCulture)}\"}} {_counts[i]}\n");
            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"+Inf\"}} {_count}\n{name}_sum {_sum.ToString("R", CultureInfo.InvariantCulture)}\n{name}_count {_count}\n");
        }
    }
}
