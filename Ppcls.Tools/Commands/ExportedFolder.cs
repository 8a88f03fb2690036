using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Core.Deploy;
using Ppcls.Core.Onnx;
using Ppcls.Data.Inference;
using Ppcls.Inference;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Tools.Commands;

/// <summary>
/// An exported model folder (`Global.inference_model_dir`: inference.onnx and inference.yml) opened as `ppcls predict`
/// and `ppcls serve` both run it: the deploy config's PreProcess / PostProcess where present, else the folder's; the
/// model's activation and class count checked against the post-process.
/// </summary>
public sealed class ExportedFolder : IDisposable
{
    ExportedFolder(DeployPreprocessor preprocessor, IReadOnlyList<NamedEntry> ops, string opsSource, OnnxClassifier model, string onnxPath, IPostProcess postProcess, string name)
    {
        (Preprocessor, Ops, OpsSource, Model, OnnxPath, PostProcess, Name) = (preprocessor, ops, opsSource, model, onnxPath, postProcess, name);
    }

    public DeployPreprocessor Preprocessor { get; }
    public IReadOnlyList<NamedEntry> Ops { get; }
    public string OpsSource { get; }
    public OnnxClassifier Model { get; }
    public string OnnxPath { get; }
    public IPostProcess PostProcess { get; }

    /// <summary>`Global.model_name` of inference.yml, else the folder's name.</summary>
    public string Name { get; }

    public static ExportedFolder Open(DeployConfig deploy, Action<string> notice)
    {
        string dir = deploy.InferenceModelDir ?? throw new PpclsUserException("Global.inference_model_dir: not set; pass -o Global.inference_model_dir=DIR (a folder written by 'ppcls export')");
        if (!Directory.Exists(dir))
            throw new PpclsUserException($"Global.inference_model_dir: folder '{dir}' not found; create it with 'ppcls export ... -o Global.save_inference_dir={dir}'");
        string yamlPath = Path.Combine(dir, ModelFolder.InferenceYaml);
        string onnxPath = Path.Combine(dir, ModelFolder.InferenceOnnx);
        if (!File.Exists(yamlPath))
            throw new PpclsUserException($"{yamlPath} not found: the model folder needs the inference.yml that 'ppcls export' writes beside inference.onnx (preprocessing and class names); export again");
        if (!File.Exists(onnxPath))
            throw new PpclsUserException($"{onnxPath} not found: export the model with 'ppcls export ... -o Global.save_inference_dir={dir}'");
        var exported = DeployConfig.Read(YamlConfigReader.ReadFile(yamlPath), yamlPath, notice);

        var (ops, opsSource) = deploy.TransformOps is { } own ? (own, "PreProcess.transform_ops") : (exported.TransformOps, $"{yamlPath}: PreProcess.transform_ops");
        if (ops is null) throw new PpclsUserException($"{yamlPath}: PreProcess.transform_ops is missing; export again or add PreProcess to the config");
        var postProcess = deploy.PostProcess ?? exported.PostProcess ?? new TopkPostProcess(1, null);
        string postSource = deploy.PostProcess is not null ? $"PostProcess.{postProcess.Name}" : $"{yamlPath}: PostProcess.{postProcess.Name}";
        var preprocessor = DeployOps.Build(ops, opsSource, notice);

        var model = new OnnxClassifier(onnxPath, deploy.CpuThreads);
        try
        {
            if (model.OutputName == OnnxClassifierExport.FeaturesOutputName)
                throw new PpclsUserException($"{onnxPath} outputs embeddings (features) of a recognition model, not class probabilities; " +
                    "predict classifies images, so export a classifier, or compare the features with your own gallery");
            CheckActivation(model, postProcess, onnxPath, postSource);
            if (model.Classes > 0)
                postProcess.CheckClassCount(model.Classes, $"use the label list of the exported model's training data ({postSource})");
        }
        catch
        {
            model.Dispose();
            throw;
        }
        string name = exported.ModelName ?? Path.GetFileName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar));
        return new ExportedFolder(preprocessor, ops, opsSource, model, onnxPath, postProcess, name);
    }

    /// <summary>
    /// A model exported by Ppcls ends in the activation its post-process reads (output `softmax` or
    /// `sigmoid`); thresholds meant for sigmoid scores on softmax probabilities (or the reverse)
    /// would give quietly wrong results, so a mismatch is refused.
    /// </summary>
    static void CheckActivation(OnnxClassifier model, IPostProcess postProcess, string onnxPath, string postSource)
    {
        OutputActivation? exported = model.OutputName switch
        {
            OnnxClassifierExport.OutputName => OutputActivation.Softmax,
            OnnxClassifierExport.SigmoidOutputName => OutputActivation.Sigmoid,
            _ => null,
        };
        if (exported is { } a && a != postProcess.Activation)
            throw new PpclsUserException(
                $"{postSource}: {postProcess.Name} reads {postProcess.Activation.ToString().ToLowerInvariant()} scores but {onnxPath} outputs {a.ToString().ToLowerInvariant()} scores; " +
                "use the post-process the model was exported with (its inference.yml), or export again with this one in Infer.PostProcess");
    }

    /// <summary>One batch through ONNX Runtime, after checking the images have the size the model was exported for.</summary>
    public float[] Run(float[] batch, long[] shape)
    {
        var dims = Model.InputDimensions;
        if (dims.Count == 4 && (dims[1] != shape[1] || dims[2] != shape[2] || dims[3] != shape[3]))
            throw new PpclsUserException(
                $"{OpsSource}: images come out as {shape[1]}x{shape[2]}x{shape[3]} but {OnnxPath} takes {dims[1]}x{dims[2]}x{dims[3]}; use the PreProcess written with the model");
        return Model.Run(batch, shape);
    }

    public void Dispose() => Model.Dispose();
}
