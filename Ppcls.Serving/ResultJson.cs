using System.Text.Json.Nodes;
using Ppcls.Inference;

namespace Ppcls.Serving;

/// <summary>A post-processed result as JSON, with the keys of PaddleClas's result dict (class_ids, scores, label_names, file_name).</summary>
public static class ResultJson
{
    /// <param name="fileName">Added as file_name where known.</param>
    public static JsonObject Of(IPredictionResult result, string? fileName)
    {
        var json = result switch
        {
            ClassResult r => Lists(r.ClassIds, r.Scores, r.LabelNames),
            ThresholdResult r => Lists(r.ClassIds, r.Scores, r.LabelNames),
            _ => new JsonObject { ["result"] = result.ToPythonRepr() },
        };
        if (fileName is not null) json["file_name"] = fileName;
        return json;
    }

    static JsonObject Lists(IReadOnlyList<int> ids, IReadOnlyList<double> scores, IReadOnlyList<string> names) => new()
    {
        ["class_ids"] = new JsonArray([.. ids.Select(i => (JsonNode?)i)]),
        ["scores"] = new JsonArray([.. scores.Select(s => (JsonNode?)s)]),
        ["label_names"] = new JsonArray([.. names.Select(n => (JsonNode?)n)]),
    };
}
