using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Engine;
using Ppcls.Inference;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>A RecModel exports its embedding (`features`), as PaddleClas's recognition inference model does.</summary>
public sealed class RecModelExportTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-rec-onnx-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);


    [Test]
    public void The_onnx_model_outputs_the_features_of_the_trained_model_without_softmax()
    {
        manual_seed(8);
        var root = new ConfigSection(YamlConfigReader.Read(new StringReader(RecModelYaml.Small), "t.yaml"), "");
        var model = (RecModel)ModelBuilder.BuildWithPreset(ArchConfig.Read(root.RequiredSection("Arch", "")), ModelZoo.CreateRegistry(), _ => { }).Module;
        ModelFusionTests.Randomize(model);
        model.eval();
        var exporter = new OnnxExporter(model.Embedding(), ModelFusion.Fuse, "RecModel", 3, 32, 32, embedding: true);
        var input = exporter.RandomInputs()[1];
        float[] expected;
        using (no_grad())
            expected = model.ForwardOutputs(tensor(input.Images, input.Shape)).Tensors["features"].data<float>().ToArray();
        string path = Path.Combine(_dir, "inference.onnx");

        var (_, checks) = exporter.Export(path, 4, exporter.RandomInputs());

        Assert.That(checks.Select(c => (c.Features, c.Passed)), Is.All.EqualTo((true, true)), string.Join("\n", checks));
        Assert.That(exporter.OutputWidth, Is.EqualTo(16));
        var graph = OnnxClassifierExport.Load(path).Graph;
        Assert.That(graph.Output.Single().Name, Is.EqualTo("features"));
        Assert.That(graph.Node.Select(n => n.OpType), Does.Not.Contain("Softmax"));
        Assert.That(graph.Initializer.Select(i => i.Name), Does.Contain("neck.fc.weight").And.Not.Contain("head.fc.weight"), "the classifier head is not part of the embedding");
        using var session = new OnnxClassifier(path);
        var onnx = session.Run(input.Images, input.Shape);
        Assert.That(onnx.Length, Is.EqualTo(4 * 16));
        double scale = Math.Max(1, expected.Max(Math.Abs));
        Assert.That(onnx.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(1e-4 * scale));
    }

    /// <summary>Every family stops at its classifier's input (the head's pre-logits twin) in ONNX as in TorchSharp.</summary>
    [TestCaseSource(typeof(ModelFusionTests), nameof(ModelFusionTests.OnePerFamily))]
    public void Every_family_stopped_at_flatten_exports_its_embedding(string backbone)
    {
        manual_seed(8);
        string yaml = $$"""
            Arch:
              name: RecModel
              Backbone: {name: {{backbone}}, class_num: 4}
              BackboneStopLayer: {name: flatten}
              Neck: {name: FC, class_num: 16}
            """;
        var root = new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "");
        var model = (RecModel)ModelBuilder.BuildWithPreset(ArchConfig.Read(root.RequiredSection("Arch", "")), ModelZoo.CreateRegistry(), _ => { }).Module;
        ModelFusionTests.Randomize(model);
        var exporter = new OnnxExporter(model.Embedding(), ModelFusion.Fuse, "RecModel", 3, 64, 64, embedding: true);

        var (_, checks) = exporter.Export(Path.Combine(_dir, backbone + ".onnx"), 0, exporter.RandomInputs());

        Assert.That(checks.Select(c => (c.Features, c.Passed)), Is.All.EqualTo((true, true)), string.Join("\n", checks));
        Assert.That(exporter.OutputWidth, Is.EqualTo(16));
    }
}
