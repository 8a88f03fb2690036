using Microsoft.ML.OnnxRuntime;

namespace Ppcls.Inference;

/// <summary>
/// An exported classifier in ONNX Runtime (CPU): one float32 NCHW input, one [N, classes]
/// probability output. <see cref="Run"/> takes a whole batch.
/// </summary>
public sealed class OnnxClassifier : IDisposable
{
    readonly InferenceSession _session;
    readonly RunOptions _runOptions = new();

    /// <param name="intraOpThreads">Threads per op; null or 0 lets ONNX Runtime pick (all cores).</param>
    public OnnxClassifier(string modelPath, int? intraOpThreads = null)
    {
        if (!File.Exists(modelPath))
            throw new UserInputException($"ONNX model '{modelPath}' not found; create it with 'ppcls export'");
        using var options = Options(intraOpThreads);
        try
        {
            _session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new UserInputException($"{modelPath}: ONNX Runtime cannot load the model: {e.Message}");
        }
        var input = _session.InputMetadata.Single();
        var output = _session.OutputMetadata.First();
        InputName = input.Key;
        OutputName = output.Key;
        InputDimensions = input.Value.Dimensions;
        Classes = output.Value.Dimensions is [_, > 0 and var classes] ? classes : -1;
    }

    static SessionOptions Options(int? intraOpThreads)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (intraOpThreads is > 0) options.IntraOpNumThreads = intraOpThreads.Value;
        return options;
    }

    public string InputName { get; }
    public string OutputName { get; }

    /// <summary>The input's dimensions as the model declares them (-1 for the dynamic batch).</summary>
    public IReadOnlyList<int> InputDimensions { get; }

    /// <summary>The number of classes (the output's second dimension), or -1 where the model leaves it open.</summary>
    public int Classes { get; }

    /// <summary>Runs one batch: <paramref name="input"/> holds shape[0] images of shape[1..] (NCHW); returns [N, classes] flat.</summary>
    public float[] Run(float[] input, long[] shape)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var outputs = _session.Run(_runOptions, [InputName], [value], [OutputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
