using Google.Protobuf;
using Ppcls.Core.IO;
using Ppcls.Core.Onnx.Proto;
using Ppcls.Inference;
using static TorchSharp.torch;

namespace Ppcls.Core.Onnx;

/// <summary>
/// A classifier as an ONNX model, in PaddleClas's export shape: input `x` of shape
/// [N, C, H, W] with a dynamic batch, the network's logits, then Softmax, or Sigmoid for
/// multi-label and attribute post-processes (PaddleClas appends one at export), output `softmax`
/// or `sigmoid` [N, classes]. The model should be in its inference form already
/// (rep branches fused, BN folded); any BatchNorm left is written as BatchNormalization.
/// </summary>
public static class OnnxClassifierExport
{
    public const string InputName = "x";
    public const string OutputName = "softmax";
    public const string SigmoidOutputName = "sigmoid";
    /// <summary>The output of an embedding model (RecModel), as PaddleClas's `infer_output_key: features`.</summary>
    public const string FeaturesOutputName = "features";

    public static ModelProto Build(nn.Module model, string modelName, int channels, int height, int width, int classNum,
        IReadOnlyDictionary<string, string>? metadata = null, OutputActivation activation = OutputActivation.Softmax)
    {
        var graph = new OnnxGraph(modelName);
        string x = graph.Input(InputName, [null, channels, height, width]);
        string logits = graph.Module(model, "", x);
        string probabilities = activation == OutputActivation.Sigmoid
            ? graph.Sigmoid(logits, SigmoidOutputName)
            : graph.Softmax(logits, axis: -1, outputName: OutputName);
        graph.Output(probabilities, [null, classNum]);
        string version = typeof(OnnxClassifierExport).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        string what = activation == OutputActivation.Sigmoid ? "sigmoid scores" : "softmax probabilities";
        return graph.ToModel(version, metadata, $"{modelName} exported by ppcls: {what} over {classNum} classes");
    }

    /// <summary>An embedding model: input `x` as for a classifier, output `features` [N, <paramref name="dimensions"/>] as the network computes it (no Softmax, no normalisation).</summary>
    public static ModelProto BuildEmbedding(nn.Module model, string modelName, int channels, int height, int width, int dimensions,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var graph = new OnnxGraph(modelName);
        string x = graph.Input(InputName, [null, channels, height, width]);
        string features = graph.Copy(graph.Module(model, "", x), FeaturesOutputName);
        graph.Output(features, [null, dimensions]);
        string version = typeof(OnnxClassifierExport).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        return graph.ToModel(version, metadata, $"{modelName} exported by ppcls: {dimensions}-d embeddings (features)");
    }

    /// <summary>Writes the model through a temporary file and a rename.</summary>
    public static void Save(ModelProto model, string path) => AtomicFile.WriteAllBytes(path, model.ToByteArray());

    public static ModelProto Load(string path) => ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
}
