using Ppcls.Core.Checkpoint;

namespace Ppcls.Tools.Tests;

/// <summary>`Slim: {quant: {name: pact}}` through the real CLI: PP-LCNet x0.25 trains quantization-aware on the demo data, resumes, evaluates, exports a QDQ ONNX graph.</summary>
[NonParallelizable]
public sealed class QuantAwareCliTests
{
    DemoData _demo = null!;

    [OneTimeSetUp]
    public void MakeData() => _demo = new DemoData();

    [OneTimeTearDown]
    public void RemoveData() => _demo.Dispose();

    /// <summary>The demo run with PACT QAT at a steady LR (0.01, no warm-up). 16 steps from scratch do not learn these 32 images reliably
    /// (the epoch loss goes up or down with the seed and the memory format); learning through the quantizers is QuantAwareTests' fixed-batch test.</summary>
    string[] Qat(string output, int epochs, params string[] extra) =>
        [.. _demo.Overrides(output, epochs), "-o", "Slim.quant.name=pact", "-o", "Optimizer.lr.learning_rate=0.01", "-o", "Optimizer.lr.warmup_epoch=0", .. extra];

    [Test]
    public void Pact_training_updates_the_quantizers_saves_their_state_and_resumes_to_the_same_weights()
    {
        string output = _demo.NewOutput();
        var run = CliRun.Of(["train", .. Qat(output, epochs: 4)]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string modelDir = Path.Combine(output, "PPLCNet_x0_25");
        string log = File.ReadAllText(Path.Combine(modelDir, "train.log"));
        Assert.That(log, Does.Contain("Slim.quant (pact): quantization-aware training of 32 Conv2D and 1 Linear layers"));
        var weights = WeightFile.Read(Path.Combine(modelDir, "latest.safetensors"), WeightLayout.WithoutModel);
        Assert.That(weights.Keys.Count(k => k.EndsWith("._act_preprocess.alpha", StringComparison.Ordinal)), Is.EqualTo(33));
        Assert.That(weights["fc._fake_quant_input._state"].item<float>(), Is.EqualTo(StateAfter(steps: 16)).Within(1e-4), "4 epochs of 4 steps");
        Assert.That(weights["fc._act_preprocess.alpha"].item<float>(), Is.Not.EqualTo(20f), "alpha trains (weight decay at 1000x LR)");

        string resumedOutput = _demo.NewOutput();
        var resumed = CliRun.Of(["train", .. Qat(resumedOutput, epochs: 4, "-o", $"Global.checkpoints={modelDir}/epoch_2")]);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.Error);
        Assert.That(File.ReadAllBytes(Path.Combine(resumedOutput, "PPLCNet_x0_25", "latest.safetensors")),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(modelDir, "latest.safetensors"))), "the resumed run ends with the uninterrupted run's weights and quantizer state");

        var eval = CliRun.Of(["eval", .. Qat(output, epochs: 4, "-o", $"Global.pretrained_model={modelDir}/latest")]);
        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        string lastTrainEval = log.Split('\n').Last(l => l.Contains("[Eval][Epoch 4][Avg]")).Split("[Avg]")[1].Trim();
        Assert.That(File.ReadAllText(Path.Combine(modelDir, "eval.log")), Does.Contain("[Avg]" + lastTrainEval), "eval runs the same fake-quantized model");
    }

    /// <summary>Paddle's moving-average state: 1, then 0.9 * state + 1 per training step.</summary>
    static double StateAfter(int steps)
    {
        double state = 1;
        for (int i = 0; i < steps; i++) state = 0.9 * state + 1;
        return state;
    }

    [Test]
    public void Export_writes_a_qdq_graph_that_onnx_runtime_runs_like_the_fake_quantized_model_and_predict_reads()
    {
        string output = _demo.NewOutput();
        Assert.That(CliRun.Of(["train", .. Qat(output, epochs: 1)]).ExitCode, Is.EqualTo(0));
        string inference = Path.Combine(output, "inference");
        string[] deploy =
        [
            "-o", $"Global.pretrained_model={output}/PPLCNet_x0_25/latest", "-o", $"Global.save_inference_dir={inference}", "-o", "Global.image_shape=[3,32,32]",
            "-o", $"Infer.infer_imgs={_demo.Data}/images", "-o", "Infer.transforms.1.ResizeImage.resize_short=36", "-o", "Infer.transforms.2.CropImage.size=32",
            "-o", $"Infer.PostProcess.class_id_map_file={_demo.Data}/label_list.txt",
        ];

        var export = CliRun.Of(["export", .. Qat(output, epochs: 1, deploy)]);

        Assert.That(export.ExitCode, Is.EqualTo(0), export.Error);
        string log = File.ReadAllText(Path.Combine(output, "PPLCNet_x0_25", "export.log"));
        Assert.That(log, Does.Contain("fused 0 block(s) into the inference form"), "BN stays after each quantized conv, as trained");
        Assert.That(log, Does.Contain("ORT vs TorchSharp, 8 images from the eval list"));
        Assert.That(log, Does.Contain("Export succeeded!"));
        var model = Ppcls.Core.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(inference, "inference.onnx")));
        var ops = model.Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        Assert.That(ops["QuantizeLinear"], Is.EqualTo(33), "one per quantized layer input (32 convs, 1 linear)");
        Assert.That(ops["DequantizeLinear"], Is.EqualTo(66), "inputs and per-channel weights");
        Assert.That(ops["BatchNormalization"], Is.EqualTo(27), "stem and the 13 depthwise-separable blocks keep their BN (SE and last conv have none)");
        Assert.That(model.OpsetImport.Single().Version, Is.GreaterThanOrEqualTo(13));

        var predict = CliRun.Of("predict", "-c", Path.Combine(CliRun.RepoRoot, "configs", "inference_cls.yaml"),
            "-o", $"Global.inference_model_dir={inference}", "-o", $"Global.infer_imgs={_demo.Data}/images");
        Assert.That(predict.ExitCode, Is.EqualTo(0), predict.Error);
        Assert.That(predict.Output.Split('\n').Count(l => l.Contains("class id(s): [", StringComparison.Ordinal)), Is.EqualTo(40), "one line per demo image");
    }

    [Test]
    public void A_model_with_rep_branches_is_refused_with_one_line()
    {
        var run = CliRun.Of(["train", .. Qat(_demo.NewOutput(), epochs: 1, "-o", "Arch.name=PPLCNetV2_small"), "--check"]);

        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.Error.Trim(), Does.StartWith("error: Slim.quant (-o Slim.quant.name=pact): quantization-aware training of PPLCNetV2_small, whose re-parameterizable branches PaddleClas merges before quantizing, is not supported"));
        Assert.That(run.Error.Trim(), Does.Not.Contain("\n"));
    }
}
