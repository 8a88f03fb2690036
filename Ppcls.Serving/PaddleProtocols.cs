using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Ppcls.Inference;

namespace Ppcls.Serving;

/// <summary>
/// PaddleClas's two serving protocols, so its own clients work unchanged:
/// PaddleHub serving (`deploy/hubserving`, POST /predict/clas_system): the client preprocesses, sends the float array
/// as base64 with `revert_params` {shape, dtype}, and reads `{"status": "000", "msg": "", "results": {"prediction": [...], "elapse": s}}`;
/// Paddle Serving's pipeline (`deploy/paddleserving`, POST /imagenet/prediction): `{"key": [...], "value": ["&lt;base64 jpeg&gt;"]}` in,
/// `{"err_no": 0, "err_msg": "", "key": ["label", "prob"], "value": ["['daisy']", "[0.93]"]}` out (top-1 name without commas, its probability).
/// </summary>
public static class PaddleProtocols
{
    public static async Task<IResult> HubServingAsync(HttpContext context, RequestClassifier classifier)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var root = await PredictInputs.ReadJsonAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            var (data, shape) = HubArray(root);
            var results = await classifier.ClassifyPreprocessedAsync(data, shape[0], shape[1], shape[2], shape[3]).ConfigureAwait(false);
            return Results.Json(new JsonObject
            {
                ["status"] = "000",
                ["msg"] = "",
                ["results"] = new JsonObject
                {
                    ["prediction"] = new JsonArray([.. results.Select(r => (JsonNode?)ResultJson.Of(r, null))]),
                    ["elapse"] = Stopwatch.GetElapsedTime(start).TotalSeconds,
                },
            });
        }
        catch (UserInputException e)
        {
            return Results.Json(new JsonObject { ["status"] = "101", ["msg"] = e.Message, ["results"] = "" }, statusCode: StatusCodes.Status400BadRequest);
        }
    }

    /// <summary>`images` (one base64 string of the whole array, or a list of per-image strings) and `revert_params` as numpy's b64_to_np reads them.</summary>
    static (float[] Data, int[] Shape) HubArray(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("images", out var images))
            throw new UserInputException("expected JSON {\"images\": \"<base64 of the preprocessed float32 array>\", \"revert_params\": {\"shape\": [N, 3, H, W], \"dtype\": \"float32\"}}");
        if (!root.TryGetProperty("revert_params", out var revert) || revert.ValueKind != JsonValueKind.Object
            || !revert.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array)
            throw new UserInputException("revert_params.shape: missing; send the array's shape, e.g. [1, 3, 224, 224]");
        var shape = shapeJson.EnumerateArray().Select(d => d.TryGetInt32(out int v) ? v : -1).ToArray();
        if (shape.Length == 3) shape = [1, .. shape];
        if (shape.Length != 4 || shape.Any(d => d < 1))
            throw new UserInputException($"revert_params.shape: expected [N, C, H, W] of positive sizes, got {shapeJson.GetRawText()}");
        string dtype = revert.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "float32";
        int itemSize = dtype switch
        {
            "float32" => 4,
            "float64" => 8,
            _ => throw new UserInputException($"revert_params.dtype: '{dtype}' is not supported; send float32 (or float64) arrays"),
        };
        byte[] bytes = images.ValueKind switch
        {
            JsonValueKind.String => Base64(images.GetString()!, "images"),
            JsonValueKind.Array => [.. images.EnumerateArray().SelectMany((e, i) => Base64(e.GetString() ?? "", $"images[{i}]"))],
            _ => throw new UserInputException("images: expected a base64 string"),
        };
        long count = (long)shape[0] * shape[1] * shape[2] * shape[3];
        if (bytes.Length != count * itemSize)
            throw new UserInputException($"images: {bytes.Length} bytes, but revert_params (shape {string.Join("x", shape)}, {dtype}) needs {count * itemSize}");
        var data = new float[count];
        if (itemSize == 4) Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        else for (long i = 0; i < count; i++) data[i] = (float)BitConverter.ToDouble(bytes, (int)(i * 8));
        return (data, shape);
    }

    static byte[] Base64(string text, string key) =>
        PredictInputs.TryBase64(text, out var bytes) ? bytes : throw new UserInputException($"{key}: not base64");

    public static async Task<IResult> PipelineAsync(HttpContext context, RequestClassifier classifier)
    {
        try
        {
            var root = await PredictInputs.ReadJsonAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            var keys = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.Array
                ? k.EnumerateArray().Select(e => e.ToString()).ToList() : null;
            var inputs = PredictInputs.Base64Images(root, "value", keys);
            var outcomes = await classifier.ClassifyAsync(inputs).ConfigureAwait(false);
            if (outcomes.FirstOrDefault(o => o.Error is not null) is { } bad)
                return Results.Json(PipelineAnswer(1, bad.Error!, [], []), statusCode: StatusCodes.Status400BadRequest);
            var labels = classifier.Model.Labels;
            var names = new List<string>();
            var probs = new List<string>();
            foreach (var outcome in outcomes)
            {
                var scores = outcome.Scores!;
                int best = 0;
                for (int i = 1; i < scores.Length; i++) if (scores[i] > scores[best]) best = i;
                names.Add(PythonRepr.String((labels is not null && best < labels.Count ? labels[best] : best.ToString(CultureInfo.InvariantCulture)).Replace(",", "")));
                probs.Add(PythonRepr.Float(scores[best]));
            }
            return Results.Json(PipelineAnswer(0, "", ["label", "prob"], ["[" + string.Join(", ", names) + "]", "[" + string.Join(", ", probs) + "]"]));
        }
        catch (UserInputException e)
        {
            return Results.Json(PipelineAnswer(1, e.Message, [], []), statusCode: StatusCodes.Status400BadRequest);
        }
    }

    static JsonObject PipelineAnswer(int errNo, string message, string[] keys, string[] values) => new()
    {
        ["err_no"] = errNo,
        ["err_msg"] = message,
        ["key"] = new JsonArray([.. keys.Select(k => (JsonNode?)k)]),
        ["value"] = new JsonArray([.. values.Select(v => (JsonNode?)v)]),
    };
}
