using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Ppcls.Core.Logging;

/// <summary>
/// One result line of a `ppcls benchmark` command: a JSON object on one line, always starting
/// with the fields every benchmark shares (`model`, `phase`, `size`, `batch`, `threads`, then
/// `samples_per_s` and/or `median_ms`), followed by what that benchmark adds. Lines from
/// different commands can be joined on these fields.
/// </summary>
/// <param name="Model">The model (Arch.name or --model).</param>
/// <param name="Phase">What was measured (`synthetic`, `real`, `decode`, `step`, ...); a ratio line is named `a/b`.</param>
/// <param name="Size">Input height and width in pixels.</param>
/// <param name="Batch">Images per batch.</param>
/// <param name="Threads">libtorch intra-op threads of the measuring process.</param>
public sealed record BenchmarkLine(string Model, string Phase, int Size, int Batch, int Threads)
{
    /// <summary>The fields every benchmark line has, in their order.</summary>
    public static readonly IReadOnlyList<string> CommonFields = ["model", "phase", "size", "batch", "threads"];

    public double? SamplesPerSecond { get; init; }
    public double? MedianMs { get; init; }
    public IReadOnlyList<KeyValuePair<string, object>> Extra { get; init; } = [];

    /// <summary>This line with one more field (a number, string or bool).</summary>
    public BenchmarkLine With(string key, object value) => this with { Extra = [.. Extra, new(key, value)] };

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", Model);
            json.WriteString("phase", Phase);
            json.WriteNumber("size", Size);
            json.WriteNumber("batch", Batch);
            json.WriteNumber("threads", Threads);
            if (SamplesPerSecond is { } sps) json.WriteNumber("samples_per_s", Math.Round(sps, 2));
            if (MedianMs is { } ms) json.WriteNumber("median_ms", Math.Round(ms, 3));
            foreach (var (key, value) in Extra)
            {
                switch (value)
                {
                    case string s: json.WriteString(key, s); break;
                    case bool b: json.WriteBoolean(key, b); break;
                    case int i: json.WriteNumber(key, i); break;
                    case long l: json.WriteNumber(key, l); break;
                    case double d: json.WriteNumber(key, Math.Round(d, 4)); break;
                    case double[] list:
                        json.WriteStartArray(key);
                        foreach (var d in list) json.WriteNumberValue(Math.Round(d, 4));
                        json.WriteEndArray();
                        break;
                    default: json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
                }
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The median of <paramref name="values"/> (mean of the middle two for an even count); 0 when empty.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return 0;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
