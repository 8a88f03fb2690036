using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ppcls.Serving;

/// <summary>
/// POST /predict: the images of the request (<see cref="PredictInputs"/>) classified; the answer lists, per image in
/// order, class_ids, scores and label_names (and file_name where known), as `ppcls predict` gives them. An image that
/// does not decode gets an error entry naming it while the others are still answered, and the status is then 400.
/// </summary>
public static class PredictEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext context, RequestClassifier classifier)
    {
        var start = Stopwatch.GetTimestamp();
        var inputs = await PredictInputs.ReadAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        var outcomes = await classifier.ClassifyAsync(inputs).ConfigureAwait(false);
        var failed = outcomes.Where(o => o.Error is not null).ToList();
        var answer = new JsonObject
        {
            ["results"] = new JsonArray([.. outcomes.Select(o => (JsonNode?)o.ToJson())]),
            ["elapse"] = Stopwatch.GetElapsedTime(start).TotalSeconds,
        };
        if (failed.Count == 0) return Results.Json(answer);
        answer["error"] = $"{failed.Count} of {outcomes.Count} image(s) could not be read: {string.Join(", ", failed.Select(o => o.Input.Source))}";
        return Results.Json(answer, statusCode: StatusCodes.Status400BadRequest);
    }
}
