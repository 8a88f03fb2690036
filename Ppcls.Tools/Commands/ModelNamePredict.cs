using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Engine;
using Ppcls.Core;
using Ppcls.Core.Models;
using Ppcls.Data.Ops;
using Ppcls.Inference;
using Ppcls.Inference.Preprocessing;
using Ppcls.Models;

namespace Ppcls.Tools.Commands;

/// <summary>
/// `ppcls predict --model NAME --image PATH`: PaddleClas's quick predictor (`paddleclas --model_name=NAME`). The
/// model is built by name, its ImageNet weights come from the pretrained folder (<see cref="PretrainedStore"/>),
/// the images get the model's standard ImageNet preprocessing (its preset: resize_short, centre crop, mean/std)
/// and the top-k classes are printed with the ImageNet-1k names in PaddleClas's result line.
/// </summary>
public static class ModelNamePredict
{
    public static int Run(string name, string images, int topk, bool useSsld, TextWriter output, TextWriter error)
    {
        var entry = ModelZoo.CreateRegistry().Get(name, "--model");
        string file = PretrainedStore.Require(name, entry.Preset, useSsld, "--model");
        var imageList = ImageList.Collect(images, "--image");
        var postProcess = new TopkPostProcess(topk, LabelMapFile.ImageNetNames(), LabelMapFile.ImageNet1k);
        using var model = entry.Create(ConfigSection.Empty("--model"));
        WeightLoader.Load(new WeightRequest(file, "--model", model, entry.Preset), ClassifierPolicy.MustFit, strict: true,
            message => error.WriteLine($"info: {message}"), message => error.WriteLine($"warning: {message}"));
        var net = InferenceModel.Of(model);
        net.eval();
        var classifier = new BatchClassifier(Preprocessing(entry.Preset), (batch, shape) => OnnxExporter.Probabilities(net, batch, shape), postProcess, batchSize: 1);
        int done = 0;
        foreach (var batch in classifier.Run(imageList, message => error.WriteLine($"warning: {message}; skipped")))
            foreach (var result in batch)
            {
                output.WriteLine(((ClassResult)result).ToQuickPredictLine());
                done++;
            }
        if (done == 0) throw new PpclsUserException($"--image: none of the {imageList.Count} image(s) could be read");
        return 0;
    }

    /// <summary>The preset's ImageNet eval recipe: resize the short side, centre crop, scale to 0..1, mean/std, CHW.</summary>
    public static DeployPreprocessor Preprocessing(ModelPreset preset) => new([
        new ResizeOp(size: null, preset.ResizeShort, new Interpolation(Interpolation.Named(preset.Interpolation)).Filters[0]),
        new CropOp(new OpenCvSharp.Size(preset.InputSize, preset.InputSize)),
        new NormalizeOp(1.0 / 255.0, [.. preset.Mean], [.. preset.Std]),
        new ToChwOp(),
    ]);
}
