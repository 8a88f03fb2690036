using System.CommandLine;
using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Core.Deploy;
using Ppcls.Inference;
using Ppcls.Core.Onnx;
using Ppcls.Data.Inference;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>
/// `ppcls predict -c configs/inference_cls.yaml -o Global.inference_model_dir=DIR -o Global.infer_imgs=PATH`:
/// PaddleClas's deploy predictor (`deploy/python/predict_cls.py`) on ONNX Runtime. Needs only the
/// exported folder: inference.onnx and inference.yml (preprocessing, the post-process, class names); the
/// config's own PreProcess / PostProcess, where present, replace the folder's. With `--model NAME --image PATH`
/// it is PaddleClas's quick predictor instead (<see cref="ModelNamePredict"/>).
/// </summary>
public static class PredictCommand
{
    public static Command Build()
    {
        var config = new ConfigOptions();
        config.Config.Required = false;
        var modelName = new Option<string?>("--model") { Description = "predict with a model by name and its pretrained ImageNet weights from $PPCLS_HOME (default ~/.ppcls/weights), as 'paddleclas --model_name'" };
        var image = new Option<string?>("--image") { Description = "with --model: an image file or folder" };
        var topk = new Option<int>("--topk") { Description = "with --model: how many classes to print", DefaultValueFactory = _ => 5 };
        var ssld = new Option<bool>("--use-ssld") { Description = "with --model: the SSLD weights (NAME_ssld_pretrained)" };
        var command = new Command("predict",
            "Run an exported model folder with ONNX Runtime (no training config, no TorchSharp) and print top-k classes per image; " +
            "or, with --model, a model by name with its pretrained ImageNet weights.\n\n" +
            "Examples:\n  ppcls predict -c configs/inference_cls.yaml -o Global.inference_model_dir=inference -o Global.infer_imgs=dataset/demo/images\n" +
            "  ppcls predict --model PPLCNet_x1_0 --image dataset/demo/images/0.jpg");
        config.AddTo(command);
        command.Add(modelName);
        command.Add(image);
        command.Add(topk);
        command.Add(ssld);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (parse.GetValue(modelName) is { } name)
            {
                if (parse.GetValue(config.Config) is not null)
                    throw new PpclsUserException("--model: predicts a model by name with its pretrained weights; drop -c (or drop --model to run an exported folder)");
                int k = parse.GetValue(topk);
                if (k < 1) throw new PpclsUserException($"--topk: must be at least 1, got {k}");
                return ModelNamePredict.Run(name, parse.GetValue(image) ?? throw new PpclsUserException("--image: not set; pass --image IMAGE_OR_FOLDER with --model"),
                    k, parse.GetValue(ssld), output, error);
            }
            if (parse.GetValue(config.Config) is null)
                throw new PpclsUserException("predict: pass -c configs/inference_cls.yaml -o Global.inference_model_dir=DIR (an exported folder), or --model NAME --image PATH");
            void Notice(string message) => error.WriteLine($"notice: {message}");
            var deploy = DeployConfig.Load(parse.GetRequiredValue(config.Config), parse.GetValue(config.Overrides) ?? [], Notice);

            string dir = deploy.InferenceModelDir ?? throw new PpclsUserException("Global.inference_model_dir: not set; pass -o Global.inference_model_dir=DIR (a folder written by 'ppcls export')");
            if (!Directory.Exists(dir))
                throw new PpclsUserException($"Global.inference_model_dir: folder '{dir}' not found; create it with 'ppcls export ... -o Global.save_inference_dir={dir}'");
            string yamlPath = Path.Combine(dir, ModelFolder.InferenceYaml);
            string onnxPath = Path.Combine(dir, ModelFolder.InferenceOnnx);
            if (!File.Exists(yamlPath))
                throw new PpclsUserException($"{yamlPath} not found: the model folder needs the inference.yml that 'ppcls export' writes beside inference.onnx (preprocessing and class names); export again");
            if (!File.Exists(onnxPath))
                throw new PpclsUserException($"{onnxPath} not found: export the model with 'ppcls export ... -o Global.save_inference_dir={dir}'");
            var exported = DeployConfig.Read(YamlConfigReader.ReadFile(yamlPath), yamlPath, Notice);

            var (ops, opsSource) = deploy.TransformOps is { } own ? (own, "PreProcess.transform_ops") : (exported.TransformOps, $"{yamlPath}: PreProcess.transform_ops");
            if (ops is null) throw new PpclsUserException($"{yamlPath}: PreProcess.transform_ops is missing; export again or add PreProcess to the config");
            var postProcess = deploy.PostProcess ?? exported.PostProcess ?? new TopkPostProcess(1, null);
            string postSource = deploy.PostProcess is not null ? $"PostProcess.{postProcess.Name}" : $"{yamlPath}: PostProcess.{postProcess.Name}";
            var images = ImageList.Collect(deploy.InferImgs ?? throw new PpclsUserException("Global.infer_imgs: not set; pass -o Global.infer_imgs=IMAGE_OR_FOLDER"), "Global.infer_imgs");
            var preprocessor = DeployOps.Build(ops, opsSource, Notice);

            using var model = new OnnxClassifier(onnxPath, deploy.CpuThreads);
            if (model.OutputName == OnnxClassifierExport.FeaturesOutputName)
                throw new PpclsUserException($"{onnxPath} outputs embeddings (features) of a recognition model, not class probabilities; " +
                    "predict classifies images, so export a classifier, or compare the features with your own gallery");
            CheckActivation(model, postProcess, onnxPath, postSource);
            if (model.Classes > 0)
                postProcess.CheckClassCount(model.Classes, $"use the label list of the exported model's training data ({postSource})");
            var classifier = new BatchClassifier(preprocessor, (batch, shape) => Run(model, onnxPath, opsSource, batch, shape), postProcess, deploy.BatchSize);
            int done = 0;
            foreach (var batch in classifier.Run(images, message => error.WriteLine($"warning: {message}; skipped")))
            {
                foreach (var result in batch) output.WriteLine(result.ToPredictLine());
                done += batch.Count;
            }
            if (done == 0) throw new PpclsUserException($"Global.infer_imgs: none of the {images.Count} image(s) could be read");
            return 0;
        });
        return command;
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
    static float[] Run(OnnxClassifier model, string onnxPath, string opsSource, float[] batch, long[] shape)
    {
        var dims = model.InputDimensions;
        if (dims.Count == 4 && (dims[1] != shape[1] || dims[2] != shape[2] || dims[3] != shape[3]))
            throw new PpclsUserException(
                $"{opsSource}: images come out as {shape[1]}x{shape[2]}x{shape[3]} but {onnxPath} takes {dims[1]}x{dims[2]}x{dims[3]}; use the PreProcess written with the model");
        return model.Run(batch, shape);
    }
}
