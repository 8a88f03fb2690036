using System.CommandLine;
using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Core.Engine;
using Ppcls.Core.Deploy;
using Ppcls.Inference;
using Ppcls.Core.IO;
using Ppcls.Core.Logging;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Data.Inference;
using Ppcls.Models;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>
/// `ppcls export -c CONFIG -o Global.pretrained_model=PATH -o Global.save_inference_dir=DIR`:
/// PaddleClas's `tools/export_model.py` with ONNX as the format. Writes DIR/inference.onnx (the
/// fused model with Softmax appended, or Sigmoid for a multi-label or attribute post-process) and
/// DIR/inference.yml (preprocessing, and the post-process with the class names), then runs the file in ONNX Runtime on random batches and up to 32 real images
/// and fails unless every probability is within 1e-4 of the TorchSharp model's. A RecModel is
/// written with its `features` output (no Softmax, no Topk) and checked on the feature values.
/// </summary>
public static class ExportCommand
{
    public const int MaxCheckImages = 32;

    public static Command Build()
    {
        var config = new ConfigOptions();
        var command = new Command("export",
            "Export the model to Global.save_inference_dir as ONNX, verified by ONNX Runtime.\n\n" +
            "Example:\n  ppcls export -c configs/quick_start/PPLCNet_x0_25_demo.yaml -o Global.pretrained_model=output/PPLCNet_x0_25/best_model -o Global.save_inference_dir=inference");
        config.AddTo(command);
        command.SetAction(parse =>
        {
            var setup = RunSetup.Prepare(config.Load(parse), "export.log");
            var c = setup.Config;
            var infer = InferCommand.RequireInfer(c.Infer);
            // Checked before the weights load: the files go into this folder, which must not be a file.
            if (File.Exists(c.Global.SaveInferenceDir))
                throw new PpclsUserException($"Global.save_inference_dir: '{c.Global.SaveInferenceDir}' is a file, not a folder; pass -o Global.save_inference_dir=DIR with a folder path (created if missing)");
            setup.LoadTrainedWeights();
            var model = InferenceModel.Of(setup.Model);
            if (model != setup.Model && setup.Model is IDistillationModel distillation)
                PpclsLog.Info($"Arch.infer_model_name: exporting {distillation.InferModel.Name} of the {c.Arch.Name}");
            var embedding = model as IEmbeddingModel;
            IPostProcess? postProcess = null;
            if (embedding is not null && c.Arch.InferAddSoftmax == true)
                throw new PpclsUserException("Arch.infer_add_softmax: a RecModel exports its features without Softmax in Ppcls; set infer_add_softmax: False");
            if (embedding is null && c.Arch.InferAddSoftmax == false)
                throw new PpclsUserException(
                    "Arch.infer_add_softmax: False asks for raw logits, but Ppcls's exported classifier ends in the activation its Infer.PostProcess reads " +
                    "(Softmax for Topk, Sigmoid for the threshold and attribute post-processes); remove the key");
            if (embedding is null) postProcess = InferCommand.ReadPostProcess(infer, c.Arch.ClassNum);
            else PpclsLog.Info($"{c.Arch.Name}: exporting the features output (the embedding) without Softmax or Topk, as PaddleClas's infer_output_key: features");

            string dir = c.Global.SaveInferenceDir;
            string onnxPath = Path.Combine(dir, ModelFolder.InferenceOnnx);
            string yamlPath = Path.Combine(dir, ModelFolder.InferenceYaml);
            var (channels, height, width) = (c.Global.ImageShape[0], c.Global.ImageShape[1], c.Global.ImageShape[2]);

            // inference.yml first: the real-image check preprocesses through what it says, as predict will.
            var transforms = (ConfigList)((ConfigMap)c.Tree["Infer"]!)["transforms"]!;
            AtomicFile.WriteAllText(yamlPath, ConfigYamlWriter.Write(InferenceYaml.Build(c.Arch.Name, transforms, postProcess)));
            var deploy = DeployConfig.Read(YamlConfigReader.ReadFile(yamlPath), yamlPath, _ => { });
            var preprocessor = DeployOps.Build(deploy.TransformOps ?? [], $"{yamlPath}: PreProcess.transform_ops", PpclsLog.Info);

            var activation = postProcess?.Activation ?? OutputActivation.Softmax;
            // A quantization-aware model is written as trained (BN after each quantized conv, QDQ nodes): folding BN would change the quantized weights.
            Func<TorchSharp.torch.nn.Module, int> fuse = c.QuantAware ? _ => 0 : ModelFusion.Fuse;
            var exporter = new OnnxExporter(embedding?.Embedding() ?? model, fuse, c.Arch.Name, channels, height, width, embedding is not null, activation, c.QuantAware);
            var inputs = exporter.RandomInputs().ToList();
            if (RealImages(setup, infer.InferImgs, preprocessor) is { } real) inputs.Add(real);
            else PpclsLog.Warn("no real images to check the export on (DataLoader.Eval list or Infer.infer_imgs); checked on random inputs only");

            var metadata = new Dictionary<string, string> { ["model_name"] = c.Arch.Name };
            if (embedding is null) metadata["class_num"] = c.Arch.ClassNum.ToString();
            var (fused, checks) = exporter.Export(onnxPath, c.Arch.ClassNum, inputs, metadata);
            string output = embedding is null
                ? $"{(activation == OutputActivation.Sigmoid ? "sigmoid" : "softmax")} output over {c.Arch.ClassNum} classes for {postProcess!.Name}"
                : $"features output [-1, {exporter.OutputWidth}]";
            PpclsLog.Info($"fused {fused} block(s) into the inference form; wrote {onnxPath} (opset {OnnxGraph.Opset}, input x [-1, {channels}, {height}, {width}], {output})");
            foreach (var check in checks) PpclsLog.Info(check.ToString());
            var worst = checks.FirstOrDefault(k => !k.Passed) ?? checks.MaxBy(k => k.MaxAbsDifference)!;
            if (!worst.Passed)
            {
                File.Delete(onnxPath);
                File.Delete(yamlPath);
                throw new PpclsUserException(
                    $"export check failed: {worst} exceeds {worst.Limit:0.0e+00} on {(worst.Features ? "a feature value" : "a probability")}; {onnxPath} was removed");
            }
            PpclsLog.Info($"Export succeeded! The inference model exported has been saved in \"{dir}\" ({ModelFolder.InferenceOnnx}, {ModelFolder.InferenceYaml}); largest ORT vs TorchSharp difference {worst.MaxAbsDifference:0.0e+00}");
            return 0;
        });
        return command;
    }

    /// <summary>Up to 32 images of the eval list (else of Infer.infer_imgs), preprocessed as the exported folder says; unreadable ones are skipped.</summary>
    static ExportCheckInput? RealImages(RunSetup setup, string? inferImgs, IImagePreprocessor preprocessor)
    {
        var (files, source) = EvalListImages(setup) is { Count: > 0 } eval
            ? (eval, "eval list")
            : inferImgs is not null && (File.Exists(inferImgs) || Directory.Exists(inferImgs))
                ? (ImageList.Collect(inferImgs, "Infer.infer_imgs").Take(MaxCheckImages).ToList(), "Infer.infer_imgs")
                : ([], "");
        var loaded = new List<(float[] Chw, int C, int H, int W)>();
        foreach (var file in files)
        {
            try
            {
                loaded.Add(preprocessor.Load(file));
            }
            catch (UnreadableImageException e)
            {
                PpclsLog.Warn($"{e.Message}; skipped in the export check");
            }
        }
        if (loaded.Count == 0) return null;
        var (_, c, h, w) = loaded[0];
        if (loaded.Any(l => (l.C, l.H, l.W) != (c, h, w)))
            throw new PpclsUserException("Infer.transforms: the check images come out in different sizes; end the transforms with a fixed-size crop");
        var data = new float[loaded.Count * c * h * w];
        for (int i = 0; i < loaded.Count; i++) loaded[i].Chw.CopyTo(data, i * c * h * w);
        return new ExportCheckInput($"{loaded.Count} images from the {source}", data, [loaded.Count, c, h, w]);
    }

    /// <summary>
    /// The first existing images of the eval data set, as its loader lists them (the data set owns its
    /// list format); none, with a notice, where that loader cannot be built.
    /// </summary>
    static List<string> EvalListImages(RunSetup setup)
    {
        var c = setup.Config;
        if (c.DataLoader?.EvalImages is not { } eval) return [];
        try
        {
            using var loader = setup.DataLoaders().Build(eval, c.Arch.ClassNum, c.Global.Seed, _ => { });
            return [.. loader.ImageFiles.Where(File.Exists).Take(MaxCheckImages)];
        }
        catch (PpclsUserException e)
        {
            PpclsLog.Info($"the eval data set gives no check images ({e.Message})");
            return [];
        }
    }
}
