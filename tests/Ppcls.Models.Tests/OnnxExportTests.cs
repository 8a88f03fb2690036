using Ppcls.Core.Config;
using Ppcls.Core.Engine;
using Ppcls.Core.Onnx;
using Ppcls.Core.Onnx.Proto;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>
/// Every family's ONNX emitters: the model with randomised BN statistics and LAB terms is fused,
/// written as ONNX and run in ONNX Runtime; its probabilities match the unfused TorchSharp model's.
/// </summary>
public sealed class OnnxExportTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-onnx-test-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static nn.Module<Tensor, Tensor> Build(string name, int classNum, string extraYaml = "")
    {
        var arch = YamlConfigReader.Read(new StringReader($"class_num: {classNum}\n{extraYaml}"), "arch.yaml");
        return ModelZoo.CreateRegistry().Get(name).Create(new ConfigSection(arch, "Arch"));
    }

    /// <param name="fuse">The inference form export writes (<see cref="ModelFusion.Fuse"/>; or none, to write every BN as BatchNormalization).</param>
    (int Fused, IReadOnlyList<ExportCheck> Checks, ModelProto Proto) Export(string name, int size, int classNum = 10,
        Func<nn.Module, int>? fuse = null, string extraYaml = "", int? width = null)
    {
        manual_seed(5);
        using var model = Build(name, classNum, extraYaml);
        ModelFusionTests.Randomize(model);
        var exporter = new OnnxExporter(model, fuse ?? ModelFusion.Fuse, name, 3, size, width ?? size);
        CalibrateHead(model, ModelZoo.CreateRegistry().Get(name).Preset.ClassifierKey, exporter.RandomInputs()[1]);
        string path = Path.Combine(_dir, name + ".onnx");
        var (fused, checks) = exporter.Export(path, classNum, exporter.RandomInputs());
        return (fused, checks, OnnxClassifierExport.Load(path));
    }

    /// <summary>
    /// Randomised BN statistics amplify activations block after block, so a deep network's softmax
    /// saturates (one class 1.0, the rest 0) and hides any difference. Scaling the classifier so the
    /// logits have a standard deviation of 2 keeps the probabilities spread; the check is then tight.
    /// </summary>
    static void CalibrateHead(nn.Module<Tensor, Tensor> model, string classifierKey, ExportCheckInput input)
    {
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        double std = model.call(tensor(input.Images, input.Shape)).std().item<float>();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters[classifierKey].mul_(2.0 / std);
        parameters[classifierKey.Replace("weight", "bias")].mul_(2.0 / std);
        var probabilities = OnnxExporter.Probabilities(model, input.Images, input.Shape);
        Assert.That(probabilities.Max(), Is.LessThan(0.99), "the softmax is not saturated, so the comparison means something");
    }

    [TestCaseSource(typeof(ModelFusionTests), nameof(ModelFusionTests.OnePerFamily))]
    public void Onnx_runtime_matches_torchsharp_on_every_family(string name)
    {
        var (fused, checks, proto) = Export(name, 64);

        Assert.That(fused, Is.GreaterThan(0));
        Assert.That(checks.Select(c => c.Input), Is.EqualTo(new[] { "random batch 1", "random batch 4" }));
        foreach (var check in checks)
        {
            TestContext.Out.WriteLine(check);
            Assert.That(check.MaxAbsDifference, Is.LessThanOrEqualTo(ExportCheck.Tolerance), check.ToString());
            Assert.That(check.Top1Agreeing, Is.EqualTo(check.Images));
        }
        // The inference form: no BatchNormalization left, Softmax last.
        Assert.That(proto.Graph.Node.Select(n => n.OpType), Does.Not.Contain("BatchNormalization"));
        Assert.That(proto.Graph.Node.Last().OpType, Is.EqualTo("Softmax"));
    }

    /// <summary>
    /// The same without fusion: every BatchNorm2d, every conv-BN block with its BN, and PP-LCNetV2's
    /// parallel depthwise branches (summed before the ReLU) are written as they run in training form.
    /// </summary>
    [TestCaseSource(typeof(ModelFusionTests), nameof(ModelFusionTests.OnePerFamily))]
    public void Onnx_runtime_matches_torchsharp_on_every_family_left_unfused(string name)
    {
        var (fused, checks, proto) = Export(name, 64, fuse: _ => 0);

        Assert.That(fused, Is.Zero);
        AssertAllPassed(checks);
        var ops = proto.Graph.Node.Select(n => n.OpType).ToList();
        Assert.That(ops, Does.Contain("BatchNormalization"));
        if (name.StartsWith("PPLCNetV2", StringComparison.Ordinal))
            Assert.That(proto.Graph.Initializer.Select(i => i.Name), Has.Some.Contains(".dw_conv_list.1.bn."), "the rep branches are written, not the fused conv");
    }

    /// <summary>The PP-ShiTu backbones: tanh after the classifier; stride-1 last stage and a biased last conv without ReLU.</summary>
    [TestCase("PPLCNet_x2_5_Tanh")]
    [TestCase("PPLCNetV2_base_ShiTu")]
    public void Onnx_runtime_matches_torchsharp_on_the_shitu_backbones(string name)
    {
        var (_, checks, proto) = Export(name, 64);

        AssertAllPassed(checks);
        var ops = proto.Graph.Node.Select(n => n.OpType).ToList();
        if (name.EndsWith("_Tanh", StringComparison.Ordinal)) Assert.That(ops[^2], Is.EqualTo("Tanh"), "tanh right before the Softmax");
        else Assert.That(proto.Graph.Initializer.Select(i => i.Name), Has.Some.Contains("last_conv.bias"));
    }

    /// <summary>The heads without their last conv: pooled features straight into the classifier.</summary>
    [TestCase("PPLCNet_x0_25")]
    [TestCase("PPLCNetV2_small")]
    [TestCase("PPHGNet_tiny")]
    [TestCase("PPHGNetV2_B0")]
    public void Onnx_runtime_matches_torchsharp_without_the_last_conv(string name)
    {
        var (_, checks, proto) = Export(name, 64, extraYaml: "use_last_conv: False");

        AssertAllPassed(checks);
        Assert.That(proto.Graph.Initializer.Select(i => i.Name), Has.None.StartsWith("last_conv."));
    }

    /// <summary>PULC's text-line form: `[2, 1]` strides halve the height and keep the width, in the ONNX graph too.</summary>
    [Test]
    public void Onnx_runtime_matches_torchsharp_with_nested_strides()
    {
        var (_, checks, proto) = Export("PPLCNet_x0_25", 48, width: 96, extraYaml: "stride_list: [2, [2, 1], [2, 1], [2, 1], [2, 1]]");

        AssertAllPassed(checks);
        var convStrides = proto.Graph.Node.Where(n => n.OpType == "Conv")
            .Select(n => string.Join(",", n.Attribute.Single(a => a.Name == "strides").Ints)).ToList();
        Assert.That(convStrides.Count(s => s == "2,1"), Is.EqualTo(4), "the first depthwise conv of blocks3 .. blocks6");
        Assert.That(convStrides[0], Is.EqualTo("2,2"), "the stem");
    }

    static void AssertAllPassed(IReadOnlyList<ExportCheck> checks)
    {
        Assert.That(checks, Has.Count.EqualTo(2));
        foreach (var check in checks)
        {
            TestContext.Out.WriteLine(check);
            Assert.That(check.MaxAbsDifference, Is.LessThanOrEqualTo(ExportCheck.Tolerance), check.ToString());
            Assert.That(check.Top1Agreeing, Is.EqualTo(check.Images));
        }
    }

    [TestCaseSource(typeof(ModelFusionTests), nameof(ModelFusionTests.AllVariants)), Explicit("every variant at 224; minutes on 2 cores")]
    public void Onnx_runtime_matches_torchsharp_on_every_variant(string name)
    {
        var (_, checks, _) = Export(name, 224, classNum: 1000);

        foreach (var check in checks)
        {
            TestContext.Out.WriteLine(check);
            Assert.That(check.MaxAbsDifference, Is.LessThanOrEqualTo(ExportCheck.Tolerance), check.ToString());
        }
    }
}
