using System.Text.Json.Nodes;
using Ppcls.Inference;

namespace Ppcls.Serving;

/// <summary>One image of a request: the file name where the client gave one, how messages name it, and its encoded bytes.</summary>
public sealed record ImageInput(string? FileName, string Source, byte[] Bytes);

/// <summary>One image's answer: its post-processed result and raw scores, or the one-line reason it has none.</summary>
public sealed record ImageOutcome(ImageInput Input, IPredictionResult? Result, float[]? Scores, string? Error)
{
    /// <summary>The per-image JSON: class_ids, scores, label_names (and file_name where known), or file_name/image and error.</summary>
    public JsonObject ToJson()
    {
        if (Error is not null)
            return Input.FileName is { } name ? new JsonObject { ["file_name"] = name, ["error"] = Error } : new JsonObject { ["image"] = Input.Source, ["error"] = Error };
        return ResultJson.Of(Result!, Input.FileName);
    }
}

/// <summary>The model's queue is full: the request is answered 503 with Retry-After.</summary>
public sealed class QueueFullException() : Exception("the model's queue is full; retry shortly");

/// <summary>
/// Classifies a request's images: each decoded and preprocessed on the request's thread (one that does not decode
/// gets an error naming it, the others go on), all queued together in the <see cref="MicroBatcher"/>, then
/// post-processed as `ppcls predict` does.
/// </summary>
public sealed class RequestClassifier(ServedModel model, MicroBatcher batcher)
{
    public ServedModel Model => model;

    public async Task<IReadOnlyList<ImageOutcome>> ClassifyAsync(IReadOnlyList<ImageInput> inputs)
    {
        var prepared = new List<(int Index, (float[] Chw, int C, int H, int W) Image)>();
        var errors = new string?[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            try
            {
                prepared.Add((i, model.Preprocess(inputs[i].Bytes, inputs[i].Source)));
            }
            catch (Exception e) when (e is UnreadableImageException or UserInputException)
            {
                errors[i] = e.Message;
            }
        }
        var scores = await RunAsync([.. prepared.Select(p => p.Image)]).ConfigureAwait(false);
        var outcomes = new ImageOutcome[inputs.Count];
        for (int i = 0; i < inputs.Count; i++) outcomes[i] = new ImageOutcome(inputs[i], null, null, errors[i]);
        for (int k = 0; k < prepared.Count; k++)
        {
            var input = inputs[prepared[k].Index];
            outcomes[prepared[k].Index] = new ImageOutcome(input, model.PostProcess.Apply(scores[k], input.FileName ?? ""), scores[k], null);
        }
        return outcomes;
    }

    /// <summary>Already preprocessed images (PaddleHub's protocol): <paramref name="data"/> holds n images of c x h x w.</summary>
    public async Task<IReadOnlyList<IPredictionResult>> ClassifyPreprocessedAsync(float[] data, int n, int c, int h, int w)
    {
        model.CheckShape(c, h, w, "revert_params.shape");
        int size = c * h * w;
        var images = Enumerable.Range(0, n).Select(i => (data.AsSpan(i * size, size).ToArray(), c, h, w)).ToList();
        var scores = await RunAsync(images).ConfigureAwait(false);
        return [.. scores.Select(s => model.PostProcess.Apply(s, ""))];
    }

    async Task<float[][]> RunAsync(IReadOnlyList<(float[] Chw, int C, int H, int W)> images)
    {
        if (images.Count == 0) return [];
        var tasks = batcher.TryEnqueue(images) ?? throw new QueueFullException();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }
}
