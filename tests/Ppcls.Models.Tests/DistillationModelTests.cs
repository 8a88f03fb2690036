using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Engine;
using Ppcls.Core.Loss;
using Ppcls.Core.Models;
using Ppcls.Core.Optim;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

public sealed class DistillationModelTests
{
    const string Arch = """
        Arch:
          name: DistillationModel
          class_num: &class_num 4
          freeze_params_list: [True, False]
          infer_model_name: Student
          models:
            - Teacher:
                name: PPLCNet_x0_35
                class_num: *class_num
            - Student:
                name: PPLCNet_x0_25
                class_num: *class_num
        """;

    static BuiltModel Build(string yaml = Arch)
    {
        var root = new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "");
        return ModelBuilder.BuildWithPreset(ArchConfig.Read(root.RequiredSection("Arch", "")), ModelZoo.CreateRegistry(), _ => { });
    }

    static OptimizerConfig Momentum() =>
        OptimizerConfig.Read(new ConfigSection(YamlConfigReader.Read(new StringReader("name: Momentum\nmomentum: 0.9\nlr: {name: Constant, learning_rate: 0.1}\n"), "o.yaml"), "Optimizer"), _ => { });

    [Test]
    public void Sub_models_sit_under_their_names_and_the_preset_follows_the_infer_model()
    {
        manual_seed(1);
        var built = Build();
        var keys = built.Module.state_dict().Keys.ToList();

        Assert.That(keys, Does.Contain("Teacher.fc.weight"));
        Assert.That(keys, Does.Contain("Student.conv1.conv.weight"));
        Assert.That(keys.All(k => k.StartsWith("Teacher.", StringComparison.Ordinal) || k.StartsWith("Student.", StringComparison.Ordinal)), Is.True);
        Assert.That(built.Preset.ClassifierKey, Is.EqualTo("Student.fc.weight"));
    }

    [Test]
    public void The_frozen_teacher_stays_in_eval_mode_gets_no_gradient_and_no_optimizer_state()
    {
        manual_seed(2);
        var model = (DistillationModel)Build().Module;
        var teacher = model.Models.Single(m => m.Name == "Teacher");
        var student = model.Models.Single(m => m.Name == "Student");
        using var optimizer = OptimizerFactory.Build(Momentum(), model, 0.1, _ => { });
        var teacherBefore = teacher.Module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var loss = LossFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader(
            "Train:\n  - DistillationCELoss:\n      weight: 1.0\n      model_name_pairs: [[\"Student\", \"Teacher\"]]\n"), "l.yaml"), "Loss").OptionalNamedList("Train")!, _ => { })!;

        model.train();
        var output = ModelOutput.Run(model, randn(4, 3, 32, 32));
        loss.Compute(output, zeros(4, dtype: ScalarType.Int64))["loss"].backward();
        optimizer.Step();

        long optimized = optimizer.Groups.Sum(g => g.Parameters.Sum(p => p.numel()));
        Assert.Multiple(() =>
        {
            Assert.That(output.Tensors.Keys, Is.EquivalentTo(new[] { "Teacher", "Student" }));
            Assert.That(output.Primary.shape, Is.EqualTo(new long[] { 4, 4 }));
            Assert.That(teacher.Module.training, Is.False, "teacher in eval mode after train()");
            Assert.That(student.Module.training, Is.True);
            Assert.That(optimizer.Groups.SelectMany(g => g.Names).Any(n => n.StartsWith("Teacher.", StringComparison.Ordinal)), Is.False);
            Assert.That(optimized, Is.EqualTo(student.Module.parameters().Sum(p => p.numel())));
            Assert.That(teacher.Module.parameters().All(p => p.grad is null), Is.True, "no gradient reaches the teacher");
            Assert.That(output.Tensors["Teacher"].requires_grad, Is.False, "teacher runs under no-grad");
            foreach (var (name, value) in teacher.Module.state_dict())
                Assert.That(value.allclose(teacherBefore[name], 0, 0), Is.True, $"{name} unchanged, BN statistics included");
        });
    }

    [Test]
    public void EMA_averages_the_student_after_a_step_and_keeps_the_teacher_it_was_given()
    {
        manual_seed(6);
        var model = (DistillationModel)Build().Module;
        var twin = (DistillationModel)Build().Module; // other random weights: the average starts from the model's
        var ema = new ModelEma(model, twin, decay: 0.75);
        using var optimizer = OptimizerFactory.Build(Momentum(), model, 0.1, _ => { });
        var loss = LossFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader(
            "Train:\n  - DistillationCELoss:\n      weight: 1.0\n      model_name_pairs: [[\"Student\", \"Teacher\"]]\n"), "l.yaml"), "Loss").OptionalNamedList("Train")!, _ => { })!;
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        model.train();
        loss.Compute(ModelOutput.Run(model, randn(4, 3, 32, 32)), zeros(4, dtype: ScalarType.Int64))["loss"].backward();
        optimizer.Step();
        ema.Update();

        var after = model.state_dict();
        var average = twin.state_dict();
        Assert.Multiple(() =>
        {
            foreach (var key in new[] { "Student.fc.weight", "Student.conv1.bn._mean" })
            {
                Assert.That(after[key].allclose(before[key]), Is.False, $"{key} moved in the step");
                Assert.That(average[key].allclose(before[key] * 0.75 + after[key] * 0.25, 1e-5, 1e-7), Is.True, key);
            }
            foreach (var key in after.Keys.Where(k => k.StartsWith("Teacher.", StringComparison.Ordinal)))
                Assert.That(average[key].allclose(before[key], 0, 0), Is.True, $"{key} is the teacher's, unchanged");
        });
        twin.eval();
        using var _ = no_grad();
        var x = randn(2, 3, 32, 32);
        Assert.That(twin.call(x).allclose(twin.Models[1].Module.call(x)), Is.True, "the average evaluates as its Student");
    }

    [Test]
    public void Forward_runs_the_infer_model_alone()
    {
        manual_seed(3);
        var model = (DistillationModel)Build().Module;
        model.eval();
        using var _ = no_grad();
        var x = randn(2, 3, 32, 32);

        Assert.That(model.call(x).allclose(model.InferModel.Module.call(x)), Is.True);
        Assert.That(InferenceModel.Of(model), Is.SameAs(model.InferModel.Module));
    }

    [Test]
    public void A_sub_model_loads_its_pretrained_weights()
    {
        manual_seed(4);
        var source = Build();
        string dir = Directory.CreateTempSubdirectory("ppcls-distill").FullName;
        string file = Path.Combine(dir, "teacher.safetensors");
        var teacher = ((DistillationModel)source.Module).Models[0].Module;
        Ppcls.Core.Checkpoint.SafeTensorsFile.Write(file, teacher.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value));

        manual_seed(5);
        var built = Build(Arch.Replace("name: PPLCNet_x0_35", $"name: PPLCNet_x0_35\n        pretrained: {file}"));
        var loaded = (DistillationModel)built.Module;

        Assert.That(loaded.Models[0].Module.state_dict()["fc.weight"].allclose(teacher.state_dict()["fc.weight"], 0, 0), Is.False, "the factory reads no file");
        var request = built.PartWeights.Single();
        Assert.That((request.KeyPath, request.KeyPrefix, request.Target), Is.EqualTo(("Arch.models.0.Teacher.pretrained", "Teacher", loaded.Models[0].Module)));
        var notices = new List<string>();
        WeightLoader.Load(request, ClassifierPolicy.SkipWhenShapeDiffers, strict: true, notices.Add, notices.Add);
        Assert.That(notices, Is.EqualTo(new[] { $"Arch.models.0.Teacher.pretrained: loaded {teacher.state_dict().Count} tensors from {file}" }));
        Assert.That(loaded.Models[0].Module.state_dict()["fc.weight"].allclose(teacher.state_dict()["fc.weight"], 0, 0), Is.True);
        Assert.That(loaded.Models[1].Module.state_dict()["fc.weight"].allclose(((DistillationModel)source.Module).Models[1].Module.state_dict()["fc.weight"], 0, 0), Is.False);
    }

    [Test]
    public void A_RecModel_backbone_loads_its_pretrained_weights_from_a_whole_RecModel_file()
    {
        manual_seed(7);
        var source = (RecModel)Build(RecModelYaml.Small).Module;
        string dir = Directory.CreateTempSubdirectory("ppcls-rec").FullName;
        string file = Path.Combine(dir, "rec.safetensors");
        SafeTensorsFile.Write(file, WeightLoader.StateDict(source));

        manual_seed(8);
        var built = Build(RecModelYaml.Small.Replace("    class_num: 4\n  BackboneStopLayer", $"    class_num: 4\n    pretrained: {file}\n  BackboneStopLayer"));
        var request = built.PartWeights.Single();
        WeightLoader.Load(request, ClassifierPolicy.SkipWhenShapeDiffers, strict: true, _ => { }, _ => { });

        var expected = WeightLoader.StateDict(source);
        var actual = WeightLoader.StateDict(built.Module);
        Assert.That(request.KeyPath, Is.EqualTo("Arch.Backbone.pretrained"));
        Assert.That(actual.Keys.Where(k => k.StartsWith("backbone.", StringComparison.Ordinal)).All(k => actual[k].allclose(expected[k], 0, 0)), Is.True, "every backbone tensor came from the file's backbone.* keys");
        Assert.That(actual["neck.fc.weight"].allclose(expected["neck.fc.weight"], 0, 0), Is.False, "the neck is not the backbone's to load");
    }

    [Test]
    public void Config_mistakes_name_the_key()
    {
        var unknown = Assert.Throws<ConfigException>(() => Build(Arch.Replace("infer_model_name: Student", "infer_model_name: Pupil")))!;
        var lengths = Assert.Throws<ConfigException>(() => Build(Arch.Replace("freeze_params_list: [True, False]", "freeze_params_list: [True]")))!;

        Assert.That(unknown.Message, Does.Contain("Arch.infer_model_name").And.Contain("'Pupil' is not among the models (Teacher, Student)"));
        Assert.That(lengths.Message, Does.Contain("Arch.freeze_params_list").And.Contain("a list of 2 True/False values"));
    }

    [Test]
    public void RecModel_gives_backbone_neck_features_and_logits_and_freezes_the_unused_classifier()
    {
        manual_seed(6);
        var built = Build(RecModelYaml.Small);
        var model = (RecModel)built.Module;

        var output = model.ForwardOutputs(randn(2, 3, 32, 32));
        var frozen = model.named_parameters().Where(p => !p.parameter.requires_grad).Select(p => p.name).ToList();

        Assert.That(output.Tensors.Keys, Is.EquivalentTo(new[] { "backbone", "neck", "features", "logits" }));
        Assert.That(output.Tensors["backbone"].shape, Is.EqualTo(new long[] { 2, 1280 }));
        Assert.That(output.Tensors["features"].shape, Is.EqualTo(new long[] { 2, 16 }));
        Assert.That(output.Primary.shape, Is.EqualTo(new long[] { 2, 4 }));
        Assert.That(frozen, Is.EquivalentTo(new[] { "backbone.fc.weight", "backbone.fc.bias" }));
        Assert.That(built.Preset.ClassifierKey, Is.EqualTo("head.fc.weight"));
    }
}
