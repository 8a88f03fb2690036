using System.CommandLine;
using Ppcls.Core.Models;
using Ppcls.Core;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Engine;
using Ppcls.Core.Deploy;
using Ppcls.Inference;
using Ppcls.Core.Logging;
using Ppcls.Data.Inference;
using Ppcls.Tools.Cli;

namespace Ppcls.Tools.Commands;

/// <summary>
/// `ppcls infer -c CONFIG -o Global.pretrained_model=PATH`: PaddleClas's `tools/infer.py`. The
/// images of `Infer.infer_imgs` go through `Infer.transforms` in batches of `Infer.batch_size`;
/// each batch's post-processed results (Topk, ThreshOutput, MultiLabelThreshOutput, the attribute
/// post-processes) are logged as one Python list, as PaddleClas logs them.
/// </summary>
public static class InferCommand
{
    public static Command Build()
    {
        var config = new ConfigOptions();
        var command = new Command("infer",
            "Predict classes for Infer.infer_imgs with the trained model and print top-k results.\n\n" +
            "Example:\n  ppcls infer -c configs/quick_start/PPLCNet_x0_25_demo.yaml -o Global.pretrained_model=output/PPLCNet_x0_25/best_model -o Infer.infer_imgs=dataset/demo/images");
        config.AddTo(command);
        command.SetAction(parse =>
        {
            var setup = RunSetup.Prepare(config.Load(parse), "infer.log");
            var c = setup.Config;
            var infer = RequireInfer(c.Infer);
            setup.LoadTrainedWeights();
            var postProcess = ReadPostProcess(infer, c.Arch.ClassNum);
            var images = ImageList.Collect(infer.InferImgs ?? throw new PpclsUserException("Infer.infer_imgs: not set; pass -o Infer.infer_imgs=IMAGE_OR_FOLDER"), "Infer.infer_imgs");
            var preprocessor = ImagePreprocessor.FromTransforms(infer.Transforms, "Infer.transforms", PpclsLog.Info);
            if (infer.SaveDir is not null) PpclsLog.Info("Infer.save_dir: results are logged, not saved to a file, in Ppcls");
            var model = InferenceModel.Of(setup.Model);
            model.eval();

            var classifier = new BatchClassifier(preprocessor, (batch, shape) => OnnxExporter.Probabilities(model, batch, shape, postProcess.Activation), postProcess, infer.BatchSize);
            int done = 0, skipped = 0;
            foreach (var batch in classifier.Run(images, message => { skipped++; PpclsLog.Warn($"{message}; skipped"); }))
            {
                PpclsLog.Info(PythonRepr.Batch(batch));
                done += batch.Count;
            }
            PpclsLog.Info($"infer done: {done} image(s) classified{(skipped > 0 ? $", {skipped} unreadable image(s) skipped" : "")}");
            if (done == 0) throw new PpclsUserException($"Infer.infer_imgs: none of the {images.Count} image(s) could be read");
            return 0;
        });
        return command;
    }

    public static InferConfig RequireInfer(InferConfig? infer) =>
        infer is { Transforms.Count: > 0 }
            ? infer
            : throw new PpclsUserException("Infer: missing or without transforms; add an Infer section (infer_imgs, batch_size, transforms, PostProcess) as in configs/quick_start/PPLCNet_x0_25_demo.yaml");

    /// <summary>
    /// `Infer.PostProcess` by its `name` (<see cref="PostProcessFactory"/>), checked against the
    /// model's <paramref name="classNum"/>; no section means top-1 without names.
    /// </summary>
    public static IPostProcess ReadPostProcess(InferConfig infer, int classNum)
    {
        var postProcess = infer.PostProcess is { } section
            ? PostProcessFactory.Read(infer.PostProcessName!, section, section.KeyPath("name"), section.Map["name"]?.Location, PpclsLog.Info)
            : new TopkPostProcess(1, null);
        postProcess.CheckClassCount(classNum, $"Arch.class_num is {classNum}; use the label map of the training data");
        return postProcess;
    }
}
