using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Loss;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>
/// `return_patterns` (PaddleClas's TheseusLayer): a sub-model of a DistillationModel also returns the named
/// layers' outputs, read by losses as `Student.blocks5`; the same mechanism for every family.
/// </summary>
public sealed class LayerOutputsTests
{
    static BuiltModel Build(string student, string teacher, string patterns, string studentPatterns = "")
    {
        string yaml = $$"""
            Arch:
              name: DistillationModel
              class_num: &class_num 4
              freeze_params_list: [True, False]
              models:
                - Teacher:
                    name: {{teacher}}
                    class_num: *class_num
                    return_patterns: {{patterns}}
                - Student:
                    name: {{student}}
                    class_num: *class_num
                    return_patterns: {{(studentPatterns.Length > 0 ? studentPatterns : patterns)}}
            """;
        var root = new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "");
        return ModelBuilder.BuildWithPreset(ArchConfig.Read(root.RequiredSection("Arch", "")), ModelZoo.CreateRegistry(), _ => { });
    }

    [Test]
    public void Each_named_layer_output_is_returned_beside_the_logits_and_equals_the_layer_run_by_hand()
    {
        manual_seed(21);
        using var model = (DistillationModel)Build("PPLCNet_x0_25", "PPLCNet_x0_35", "[blocks3, blocks4, blocks5, blocks6]").Module;
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 32, 32);

        var output = model.ForwardOutputs(x);
        var student = (PPLCNet)model.Models.Single(m => m.Name == "Student").Module;
        var layers = student.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        var byHand = layers["conv1"].call(x);
        var expected = new Dictionary<string, Tensor>();
        foreach (var name in new[] { "blocks2", "blocks3", "blocks4", "blocks5", "blocks6" }) expected[name] = byHand = layers[name].call(byHand);

        Assert.That(output.Tensors.Keys, Is.SupersetOf(new[] { "Student", "Teacher", "Student.blocks3", "Student.blocks6", "Teacher.blocks5" }));
        Assert.That(output.Get("Student", "blocks3", "t").shape, Is.EqualTo(new long[] { 2, 16, 8, 8 }), "x0_25: 64 x 0.25 channels at stride 4");
        Assert.That(output.Get("Teacher", "blocks5", "t").shape, Is.EqualTo(new long[] { 2, 88, 2, 2 }), "x0_35: make_divisible(256 x 0.35) = 88 channels");
        foreach (var name in new[] { "blocks3", "blocks4", "blocks5", "blocks6" })
            Assert.That(output.Get("Student", name, "t").allclose(expected[name], 0, 0), Is.True, name);
        Assert.That(output.Get("Student", "logits", "t").allclose(student.call(x), 0, 0), Is.True, "the logits are the plain forward's");
    }

    /// <summary>
    /// The captured outputs outlive the network's and its blocks' dispose scopes and keep their autograd
    /// history: a distance loss on `blocks5` alone trains conv1 .. blocks5 of the student and nothing after.
    /// </summary>
    [Test]
    public void A_distance_loss_on_a_returned_layer_trains_the_layers_up_to_it_and_no_further()
    {
        manual_seed(22);
        using var model = (DistillationModel)Build("PPLCNet_x0_25", "PPLCNet_x0_25", "[blocks5]").Module;
        model.train();
        var loss = LossFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader(
            "Train:\n  - DistillationDistanceLoss: {weight: 1.0, key: blocks5, model_name_pairs: [[Student, Teacher]]}\n"), "l.yaml"), "Loss")
            .OptionalNamedList("Train")!, _ => { })!;
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 32, 32);
        var output = model.ForwardOutputs(x);
        GC.Collect();
        var terms = loss.Compute(output, zeros(2, dtype: ScalarType.Int64));
        var student = model.Models.Single(m => m.Name == "Student").Module;
        var s5 = output.Get("Student", "blocks5", "t");
        var t5 = output.Get("Teacher", "blocks5", "t");

        Assert.That(terms.Keys, Does.Contain("loss_l2_loss_l2_0"));
        Assert.That(terms["loss_l2_loss_l2_0"].item<float>(), Is.EqualTo(s5.sub(t5).pow(2).mean().item<float>()).Within(1e-6));
        terms["loss"].backward();
        var grads = student.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        Assert.Multiple(() =>
        {
            Assert.That(grads.Where(g => g.Key.StartsWith("blocks5.", StringComparison.Ordinal) || g.Key.StartsWith("conv1.", StringComparison.Ordinal))
                .All(g => g.Value is not null && g.Value.abs().sum().item<float>() > 0), Is.True, "conv1 .. blocks5 get gradients");
            Assert.That(grads.Where(g => g.Key.StartsWith("blocks6.", StringComparison.Ordinal) || g.Key.StartsWith("fc.", StringComparison.Ordinal))
                .All(g => g.Value is null || g.Value.abs().sum().item<float>() == 0), Is.True, "blocks6 and fc get none");
        });
    }

    [Test]
    public void Paddle_index_patterns_name_a_layer_of_a_sequence_in_any_family()
    {
        manual_seed(23);
        using var model = (DistillationModel)Build("ResNet18_vd", "ResNet18_vd", "[\"blocks[1]\", \"blocks.5\"]").Module;
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var output = model.ForwardOutputs(randn(1, 3, 32, 32));
        Assert.That(output.Get("Student", "blocks[1]", "t").shape, Is.EqualTo(new long[] { 1, 64, 8, 8 }), "end of stage 1");
        Assert.That(output.Get("Teacher", "blocks.5", "t").shape, Is.EqualTo(new long[] { 1, 256, 2, 2 }), "end of stage 3");
    }

    [Test]
    public void An_unknown_layer_is_one_error_naming_the_key_and_the_valid_layers()
    {
        var ex = Assert.Throws<ConfigException>(() => Build("PPLCNet_x0_25", "PPLCNet_x0_25", "[blocks3]", "[blocks9]"));
        Assert.That(ex!.Message, Does.StartWith("Arch.models.1.Student.return_patterns").Or.Contain("Student.return_patterns"));
        Assert.That(ex.Message, Does.Contain("no layer 'blocks9'").And.Contain("blocks6").And.Not.Contain("\n"));
    }

    [Test]
    public void Return_stages_alone_is_refused_pointing_to_return_patterns()
    {
        var ex = Assert.Throws<ConfigException>(() => Build("PPLCNet_x0_25", "PPLCNet_x0_25", "[blocks3]", "null\n        return_stages: [1, 2]"));
        Assert.That(ex!.Message, Does.Contain("Student.return_stages").And.Contain("return_patterns"));
    }

    /// <summary>PaddleClas's safety-helmet config sets both; TheseusLayer then ignores return_stages (with a warning).</summary>
    [Test]
    public void Return_stages_beside_return_patterns_is_ignored_with_a_notice()
    {
        var notices = new List<string>();
        string yaml = """
            Arch:
              name: PPLCNet_x0_25
              return_stages: True
              return_patterns: [blocks4]
            """;
        var root = new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "");
        using var model = ModelBuilder.Build(ArchConfig.Read(root.RequiredSection("Arch", "")), ModelZoo.CreateRegistry(), notices.Add);
        Assert.That(((ILayerOutputs)model).ReturnedLayers, Is.EqualTo(new[] { "blocks4" }));
        Assert.That(notices, Has.One.Contains("Arch.return_stages is ignored"));
    }

    [Test]
    public void A_model_without_return_patterns_returns_its_logits_alone()
    {
        manual_seed(24);
        using var model = ModelZoo.CreateRegistry().Get("PPLCNet_x0_25").Create(ConfigSection.Empty("Arch"));
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var output = ModelOutput.Run(model, randn(1, 3, 32, 32));
        Assert.That(output.Tensors.Keys, Is.EqualTo(new[] { ModelOutput.LogitsKey }));
    }
}
