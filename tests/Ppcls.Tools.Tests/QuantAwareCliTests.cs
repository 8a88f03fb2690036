using System.Globalization;
using System.Text.RegularExpressions;
using Ppcls.Core.Checkpoint;

namespace Ppcls.Tools.Tests;

/// <summary>`Slim: {quant: {name: pact}}` through the real CLI: PP-LCNet x0.25 trains quantization-aware on the demo data, resumes, evaluates; export refuses it.</summary>
[NonParallelizable]
public sealed class QuantAwareCliTests
{
    DemoData _demo = null!;

    [OneTimeSetUp]
    public void MakeData() => _demo = new DemoData();

    [OneTimeTearDown]
    public void RemoveData() => _demo.Dispose();

    /// <summary>The demo run with PACT QAT, at a steady LR (0.01, no warm-up) under which 4 epochs of 4 steps lower the loss.</summary>
    string[] Qat(string output, int epochs, params string[] extra) =>
        [.. _demo.Overrides(output, epochs), "-o", "Slim.quant.name=pact", "-o", "Optimizer.lr.learning_rate=0.01", "-o", "Optimizer.lr.warmup_epoch=0", .. extra];

    static double EpochLoss(string log, int epoch) => double.Parse(
        Regex.Match(log, $@"\[Train\]\[Epoch {epoch}/\d+\]\[Avg\]CELoss: ([0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);

    [Test]
    public void Pact_training_lowers_the_loss_saves_the_quantizer_state_and_resumes_to_the_same_weights()
    {
        string output = _demo.NewOutput();
        var run = CliRun.Of(["train", .. Qat(output, epochs: 4)]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string modelDir = Path.Combine(output, "PPLCNet_x0_25");
        string log = File.ReadAllText(Path.Combine(modelDir, "train.log"));
        Assert.That(log, Does.Contain("Slim.quant (pact): quantization-aware training of 32 Conv2D and 1 Linear layers"));
        Assert.That(EpochLoss(log, 4), Is.LessThan(EpochLoss(log, 1)));
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
    public void Export_refuses_a_quantization_aware_model_with_one_line()
    {
        var export = CliRun.Of(["export", .. Qat(_demo.NewOutput(), epochs: 1)]);

        Assert.That(export.ExitCode, Is.Not.EqualTo(0));
        Assert.That(export.Error.Trim(), Does.StartWith("error: Slim.quant ").And.EndWith("exporting a quantization-aware (PACT) model is not supported yet (no QDQ ONNX export); evaluate it with ppcls eval instead"));
        Assert.That(export.Error.Trim(), Does.Not.Contain("\n"));
    }
}
