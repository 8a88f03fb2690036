using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;

namespace Ppcls.Core.Tests.Config;

public sealed class PpclsConfigTests
{
    ConfigTestFiles _files = null!;
    List<string> _notices = null!;

    [SetUp]
    public void SetUp()
    {
        _files = new ConfigTestFiles();
        _notices = [];
    }

    [TearDown]
    public void TearDown() => _files.Dispose();

    PpclsConfig Load(string yaml, params string[] overrides) =>
        PpclsConfig.Load(_files.Write("config.yaml", yaml), overrides, _notices.Add);

    ConfigException LoadFails(string yaml, params string[] overrides) =>
        Assert.Throws<ConfigException>(() => Load(yaml, overrides))!;

    [Test]
    public void A_PaddleClas_config_loads_into_typed_sections()
    {
        var config = Load(ConfigTestFiles.Minimal);

        Assert.That(config.Global.Epochs, Is.EqualTo(3));
        Assert.That(config.Global.ImageShape, Is.EqualTo(new[] { 3, 64, 64 }));
        Assert.That(config.Global.Device, Is.EqualTo(DeviceKind.Cpu));
        Assert.That(config.Global.PretrainedModel, Is.Null);
        Assert.That(config.Arch.Name, Is.EqualTo("PPLCNet_x0_25"));
        Assert.That(config.Arch.ClassNum, Is.EqualTo(10));
        Assert.That(config.Loss.Train.Select(l => l.Name), Is.EqualTo(new[] { "CELoss" }));
        Assert.That(config.Loss.Train[0].Options.Double("epsilon", 0), Is.EqualTo(0.1));
        Assert.That(config.Optimizer!.Name, Is.EqualTo("Momentum"));
        Assert.That(config.Optimizer.Regularizer, Is.EqualTo(new Ppcls.Core.Config.Sections.RegularizerConfig("L2", 0.00003)));
        Assert.That(config.DataLoader!.Train!.Sampler.BatchSize, Is.EqualTo(32));
        Assert.That(config.DataLoader.Train.Sampler.Shuffle, Is.True);
        Assert.That(config.DataLoader.Train.NumWorkers, Is.EqualTo(2));
        Assert.That(config.DataLoader.Eval, Is.Null);
        Assert.That(config.Infer!.PostProcessName, Is.EqualTo("Topk"));
    }

    [Test]
    public void PaddleClas_keys_without_meaning_here_are_accepted_with_one_notice_each()
    {
        Load(ConfigTestFiles.Minimal);

        Assert.That(_notices, Has.One.Contains("Global.use_visualdl"));
        Assert.That(_notices, Has.One.Contains("Global.to_static"));
        Assert.That(_notices, Has.One.Contains("DataLoader.Train.loader.use_shared_memory"));
    }

    [Test]
    public void Anchors_and_aliases_resolve_to_the_anchored_value()
    {
        var config = Load(ConfigTestFiles.Minimal);

        var topk = config.Infer!.PostProcess!;
        Assert.That(topk.Int("class_num", 0), Is.EqualTo(10));
    }

    [Test]
    public void An_expression_like_one_over_255_is_read_as_a_number()
    {
        var config = Load(ConfigTestFiles.Minimal);

        var normalize = config.DataLoader!.Train!.Dataset.OptionalNamedList("transform_ops")![3];
        Assert.That(normalize.Name, Is.EqualTo("NormalizeImage"));
        Assert.That(normalize.Options.Double("scale", 0), Is.EqualTo(1.0 / 255.0).Within(1e-15));
    }

    [Test]
    public void An_unknown_key_names_its_path_file_and_line_and_suggests_the_closest_key()
    {
        var e = LoadFails(ConfigTestFiles.Minimal.Replace("  epochs: 3", "  epcohs: 3"));

        Assert.That(e.Message, Does.StartWith("Global.epcohs ("));
        Assert.That(e.Message, Does.Contain("config.yaml:6)"));
        Assert.That(e.Message, Does.Contain("did you mean 'epochs'?"));
    }

    [Test]
    public void An_unknown_top_level_section_is_an_error()
    {
        var e = LoadFails(ConfigTestFiles.Minimal + "\nOptimiser:\n  name: SGD\n");

        Assert.That(e.Message, Does.StartWith("Optimiser ("));
        Assert.That(e.Message, Does.Contain("did you mean 'Optimizer'?"));
    }

    [Test]
    public void A_wrong_type_names_the_key_the_line_and_what_was_expected()
    {
        var e = LoadFails(ConfigTestFiles.Minimal.Replace("  epochs: 3", "  epochs: three"));

        Assert.That(e.Message, Is.EqualTo($"Global.epochs ({_files.Write("x", "")[..^1]}config.yaml:6): expected an integer, got 'three'"));
    }

    [Test]
    public void A_missing_required_key_says_what_to_add()
    {
        var e = LoadFails(ConfigTestFiles.Minimal.Replace("      batch_size: 32\n", ""));

        Assert.That(e.Message, Does.StartWith("DataLoader.Train.sampler.batch_size"));
        Assert.That(e.Message, Does.Contain("required key is missing; add it, e.g. batch_size: 64"));
    }

    [Test]
    public void An_invalid_choice_lists_the_valid_ones()
    {
        var e = LoadFails(ConfigTestFiles.Minimal.Replace("  name: Momentum", "  name: Momentun"));

        Assert.That(e.Message, Does.StartWith("Optimizer.name"));
        Assert.That(e.Message, Does.Contain("did you mean 'Momentum'?"));
        Assert.That(e.Message, Does.Contain("unknown optimizer 'Momentun'; did you mean 'Momentum'? use one of: Adam, AdamW, Momentum, RMSProp, SGD"));
    }

    [Test]
    public void A_missing_config_file_is_one_clear_error()
    {
        var e = Assert.Throws<ConfigException>(() => PpclsConfig.Load("/nonexistent/dir/c.yaml", [], _notices.Add))!;

        Assert.That(e.Message, Does.StartWith("config file not found: /nonexistent/dir/c.yaml"));
    }

    [Test]
    public void Invalid_yaml_names_the_file_and_line()
    {
        var e = LoadFails("Global:\n  epochs: 3\n bad: 1\nArch:\n  name: X\n");

        Assert.That(e.Message, Does.Contain("config.yaml:3:"));
        Assert.That(e.Message, Does.Contain("invalid YAML"));
    }

    [Test]
    public void An_unclosed_list_in_yaml_is_reported_with_the_file()
    {
        var e = LoadFails("Global:\n  epochs: 3\n  bad: [1, 2\nArch:\n  name: X\n");

        Assert.That(e.Message, Does.Contain("config.yaml: invalid YAML: a '[' or '{' is never closed"));
    }

    [Test]
    public void A_badly_indented_single_key_list_item_is_reported_at_its_index()
    {
        var e = LoadFails(ConfigTestFiles.Minimal.Replace("    - CELoss:\n        weight: 1.0\n        epsilon: 0.1",
            "    - CELoss:\n      weight: 1.0"));

        Assert.That(e.Message, Does.StartWith("Loss.Train.0"));
        Assert.That(e.Message, Does.Contain("single-key mapping"));
    }

    [Test]
    public void Overrides_set_nested_keys_list_items_and_typed_values_with_later_ones_winning()
    {
        var config = Load(ConfigTestFiles.Minimal,
            "Global.epochs=7",
            "Global.epochs=9",
            "DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=48",
            "Metric.Eval.0.TopkAcc.topk=[1,3]",
            "Global.eval_during_train=False",
            "Optimizer.lr.learning_rate=0.05");

        Assert.That(config.Global.Epochs, Is.EqualTo(9));
        Assert.That(config.Global.EvalDuringTrain, Is.False);
        var crop = config.DataLoader!.Train!.Dataset.OptionalNamedList("transform_ops")![1];
        Assert.That(crop.Options.Int("size", 0), Is.EqualTo(48));
        Assert.That(config.Metric.Eval[0].Options.OptionalIntList("topk"), Is.EqualTo(new[] { 1, 3 }));
        Assert.That(config.Optimizer!.Lr.Double("learning_rate", 0), Is.EqualTo(0.05));
    }

    [Test]
    public void An_override_that_adds_a_key_announces_it()
    {
        var config = Load(ConfigTestFiles.Minimal, "Global.seed=7", "EMA.decay=0.999");

        Assert.That(config.Global.Seed, Is.EqualTo(7));
        Assert.That(config.Ema!.Decay, Is.EqualTo(0.999));
        Assert.That(_notices, Has.One.EqualTo("A new field (Global.seed) detected from -o Global.seed=7"));
        Assert.That(_notices, Has.One.EqualTo("A new Series field (EMA) detected from -o EMA.decay=0.999"));
    }

    [Test]
    public void A_misspelt_override_key_fails_like_a_misspelt_yaml_key()
    {
        var e = LoadFails(ConfigTestFiles.Minimal, "Global.epoch=5");

        Assert.That(e.Message, Does.StartWith("Global.epoch (-o Global.epoch=5): unknown key; did you mean 'epochs'?"));
    }

    [TestCase("Global.epochs", "an override must look like Key.Sub=value")]
    [TestCase("=5", "an override must look like Key.Sub=value")]
    [TestCase("Global..epochs=5", "has an empty segment")]
    [TestCase("Global.image_shape=[3,64", "missing its closing ']'")]
    [TestCase("Loss.Train.5.CELoss.weight=1", "is a list of 1 items; '5' must be an index from 0 to 0")]
    [TestCase("Global.epochs.max=5", "Global.epochs is '3', so it has no key 'max'")]
    public void A_malformed_override_is_one_clear_error(string text, string expected)
    {
        var e = LoadFails(ConfigTestFiles.Minimal, text);

        Assert.That(e.Message, Does.StartWith($"-o {text}"));
        Assert.That(e.Message, Does.Contain(expected));
    }

    [Test]
    public void Gpu_device_is_accepted_by_the_config_and_other_devices_are_not()
    {
        Assert.That(Load(ConfigTestFiles.Minimal, "Global.device=gpu").Global.Device, Is.EqualTo(DeviceKind.Gpu));

        var e = LoadFails(ConfigTestFiles.Minimal, "Global.device=tpu");
        Assert.That(e.Message, Does.Contain("use one of: cpu, gpu"));
    }

    [Test]
    public void Arch_keeps_model_options_for_the_model_registry()
    {
        var config = Load(ConfigTestFiles.Minimal, "Arch.scale=0.5", "Arch.pretrained=weights/best");

        Assert.That(config.Arch.PretrainedPath, Is.EqualTo("weights/best"));
        Assert.That(config.Arch.Options.Map.Keys, Is.EquivalentTo(new[] { "class_num", "scale" }));
    }
    [Test]
    public void A_train_mode_other_than_plain_supervised_training_is_refused_naming_the_key()
    {
        var e = LoadFails(ConfigTestFiles.Minimal.Replace("  epochs: 3\n", "  epochs: 3\n  train_mode: fixmatch\n"));

        Assert.That(e.Message, Does.StartWith("Global.train_mode ("));
        Assert.That(e.Message, Does.EndWith("'fixmatch' training (PaddleClas's train_epoch_fixmatch) is not supported in Ppcls, which trains supervised epochs only; remove the key"));
        Assert.That(Load(ConfigTestFiles.Minimal, "Global.train_mode=null").Global.Epochs, Is.EqualTo(3));
    }

    [TestCase("SSL:\n  tempture: 1\n", "SSL", "semi-supervised training (SSL) is not supported")]
    [TestCase("UnLabelLoss:\n  Train:\n    - CELoss:\n        weight: 1.0\n", "UnLabelLoss", "remove the UnLabelLoss section")]
    [TestCase("Slim:\n  prune:\n    name: fpgm\n    pruned_ratio: 0.3\n", "Slim.prune", "PaddleSlim pruning (FPGM / L1-norm filter pruning) is not supported in Ppcls; remove Slim.prune")]
    [TestCase("Slim:\n  quant:\n    name: dorefa\n", "Slim.quant.name", "quantization method 'dorefa' is not supported; PaddleClas and Ppcls train only PACT quantization (name: pact)")]
    [TestCase("Slim:\n  quant:\n    name: pact\n    weight_bits: 4\n", "Slim.quant.weight_bits", "unknown key")]
    public void Sections_that_change_what_is_trained_are_refused_not_ignored(string section, string key, string message)
    {
        var e = LoadFails(ConfigTestFiles.Minimal + "\n" + section);

        Assert.That(e.Message, Does.StartWith($"{key} ("));
        Assert.That(e.Message, Does.Contain(message));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [TestCase("Slim:\n  quant:\n    name: pact\n", true)]
    [TestCase("Slim:\n  quant:\n    name: PACT\n", true)]
    [TestCase("", false)]
    public void Slim_quant_pact_turns_on_quantization_aware_training(string section, bool quantAware) =>
        Assert.That(Load(ConfigTestFiles.Minimal + "\n" + section).QuantAware, Is.EqualTo(quantAware));

    [Test]
    public void A_PaddleClas_1_x_config_is_named_as_such_instead_of_missing_Arch()
    {
        var e = LoadFails("mode: 'train'\nARCHITECTURE:\n    name: 'ResNet50_vd'\nclasses_num: 102\nTRAIN:\n    batch_size: 20\n");

        Assert.That(e.Message, Does.StartWith("ARCHITECTURE ("));
        Assert.That(e.Message, Does.Contain("PaddleClas 1.x static-graph config"));
        Assert.That(e.Message, Does.EndWith("port it to the Arch / DataLoader / Optimizer schema (e.g. configs/ImageNet/ResNet/ResNet50_vd.yaml)"));
    }

    [Test]
    public void The_multi_optimizer_list_form_is_refused_with_one_line()
    {
        string yaml = ConfigTestFiles.Minimal[..ConfigTestFiles.Minimal.IndexOf("Optimizer:", StringComparison.Ordinal)]
            + "Optimizer:\n  - Momentum:\n      scope: RecModel\n      lr: {name: Cosine, learning_rate: 0.1}\n"
            + ConfigTestFiles.Minimal[ConfigTestFiles.Minimal.IndexOf("DataLoader:", StringComparison.Ordinal)..];

        var e = LoadFails(yaml);

        Assert.That(e.Message, Does.StartWith("Optimizer ("));
        Assert.That(e.Message, Does.EndWith("the list form (one optimizer per parameter scope) is not supported in Ppcls; give one Optimizer mapping (name, momentum, lr, regularizer) for the whole model"));
    }
}
