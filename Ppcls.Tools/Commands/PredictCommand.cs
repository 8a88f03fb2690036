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
            "Example:\n  ppcls predict -c configs/inference_cls.yaml -o Global.inference_model_dir=inference -o Global.infer_imgs=dataset/demo/images\n" +
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

            using var folder = ExportedFolder.Open(deploy, Notice);
            var images = ImageList.Collect(deploy.InferImgs ?? throw new PpclsUserException("Global.infer_imgs: not set; pass -o Global.infer_imgs=IMAGE_OR_FOLDER"), "Global.infer_imgs");
            var classifier = new BatchClassifier(folder.Preprocessor, folder.Run, folder.PostProcess, deploy.BatchSize);
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
}
