namespace Ppcls.Inference;

/// <summary>The files `ppcls export` writes into `Global.save_inference_dir` and `ppcls predict` reads back.</summary>
public static class ModelFolder
{
    public const string InferenceYaml = "inference.yml";
    public const string InferenceOnnx = "inference.onnx";
}
