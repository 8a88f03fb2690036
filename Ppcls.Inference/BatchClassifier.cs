namespace Ppcls.Inference;

/// <summary>
/// The loop `infer` and `predict` share, as PaddleClas runs it: images in order, preprocessed,
/// gathered into batches of <c>batchSize</c>, classified together, then the post-process per image. An image
/// that cannot be read is reported (by name, through <c>skipped</c>) and left out.
/// </summary>
/// <param name="probabilities">Runs one batch (NCHW floats, shape) and returns its scores after the post-process's activation, [N, classes] flat.</param>
public sealed class BatchClassifier(IImagePreprocessor preprocessor, Func<float[], long[], float[]> probabilities, IPostProcess postProcess, int batchSize)
{
    public IEnumerable<IReadOnlyList<IPredictionResult>> Run(IReadOnlyList<string> images, Action<string> skipped)
    {
        if (batchSize < 1) throw new UserInputException($"batch_size must be at least 1, got {batchSize}");
        var pending = new List<(string File, float[] Chw, int C, int H, int W)>();
        foreach (var file in images)
        {
            try
            {
                var (chw, c, h, w) = preprocessor.Load(file);
                if (pending.Count > 0 && (pending[0].C, pending[0].H, pending[0].W) != (c, h, w))
                    throw new UserInputException($"{file}: preprocessed to {c}x{h}x{w}, but the batch holds {pending[0].C}x{pending[0].H}x{pending[0].W} images; end the transforms with a fixed-size crop or resize");
                pending.Add((file, chw, c, h, w));
            }
            catch (UnreadableImageException e)
            {
                skipped(e.Message);
                continue;
            }
            if (pending.Count == batchSize)
            {
                yield return Classify(pending);
                pending.Clear();
            }
        }
        if (pending.Count > 0) yield return Classify(pending);
    }

    IReadOnlyList<IPredictionResult> Classify(List<(string File, float[] Chw, int C, int H, int W)> batch)
    {
        var (_, first, c, h, w) = batch[0];
        int size = first.Length;
        var input = new float[batch.Count * size];
        for (int i = 0; i < batch.Count; i++) batch[i].Chw.CopyTo(input, i * size);
        var probs = probabilities(input, [batch.Count, c, h, w]);
        int classes = probs.Length / batch.Count;
        return [.. batch.Select((item, i) => postProcess.Apply(probs.AsSpan(i * classes, classes), item.File))];
    }
}
