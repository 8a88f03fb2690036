using System.Text.RegularExpressions;
using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Models;
using static TorchSharp.torch;

namespace Ppcls.Tools.Tests;

/// <summary>
/// Pretrained weights by name: a weights folder (PPCLS_HOME) the test fills with a generated
/// PPLCNet_x0_25_pretrained.pdparams whose classifier bias favours five known ImageNet classes;
/// `ppcls predict --model` reads it by name and agrees with `ppcls infer` on PaddleClas's ImageNet
/// config, `Arch.pretrained: True` loads it, `ppcls weights list` shows it, and a missing file is one line
/// naming the file, the folder and PaddleClas's address for it.
/// </summary>
[NonParallelizable]
public sealed partial class PretrainedByNameTests
{
    static readonly int[] Favoured = [207, 1, 954, 340, 88];
    string _root = null!;
    string _home = null!;
    string _image = null!;
    string? _previousHome;
    DemoData _demo = null!;

    [OneTimeSetUp]
    public void MakeWeightsFolder()
    {
        _root = Directory.CreateTempSubdirectory("ppcls-pretrained-test-").FullName;
        _home = Path.Combine(_root, "weights");
        Directory.CreateDirectory(_home);
        _previousHome = Environment.GetEnvironmentVariable(PretrainedStore.HomeVariable);
        Environment.SetEnvironmentVariable(PretrainedStore.HomeVariable, _home);
        _demo = new DemoData();
        _image = Directory.GetFiles(Path.Combine(_demo.Data, "images")).Order(StringComparer.Ordinal).First();

        manual_seed(11);
        using var model = ModelZoo.CreateRegistry().Get("PPLCNet_x0_25").Create(ConfigSection.Empty("Arch"));
        var weights = WeightLoader.StateDict(model);
        using (no_grad())
        {
            var bias = weights["fc.bias"];
            bias.zero_();
            for (int i = 0; i < Favoured.Length; i++) bias[Favoured[i]] = tensor(6.0f - i);
        }
        WeightFile.Write(Path.Combine(_home, "PPLCNet_x0_25_pretrained.pdparams"), weights, PaddleLayout.LinearWeightsOf(model), "test");
    }

    [OneTimeTearDown]
    public void RemoveFolder()
    {
        Environment.SetEnvironmentVariable(PretrainedStore.HomeVariable, _previousHome);
        Directory.Delete(_root, recursive: true);
        _demo.Dispose();
    }

    [GeneratedRegex(@"^class_ids: \[(?<ids>[^\]]*)\], scores: \[(?<scores>[^\]]*)\], label_names: \[(?<names>.*)\], filename: (?<file>.+)$", RegexOptions.Multiline)]
    private static partial Regex QuickLine();

    [GeneratedRegex(@"'class_ids': \[(?<ids>[^\]]*)\], 'scores': \[(?<scores>[^\]]*)\]")]
    private static partial Regex InferResult();

    static int[] Ints(string list) => [.. list.Split(", ").Select(int.Parse)];
    static double[] Doubles(string list) => [.. list.Split(", ").Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture))];

    [Test]
    public void Predict_by_model_name_prints_the_quick_predictor_line_with_ImageNet_names_and_agrees_with_infer()
    {
        var run = CliRun.Of("predict", "--model", "PPLCNet_x0_25", "--image", _image);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var line = QuickLine().Match(run.Output);
        Assert.That(line.Success, Is.True, run.Output);
        Assert.That(Ints(line.Groups["ids"].Value), Is.EqualTo(Favoured), "the biased classes, highest first");
        Assert.That(line.Groups["file"].Value, Is.EqualTo(_image));
        // The names are PaddleClas's ImageNet-1k list (shipped with Ppcls.Inference) for those ids.
        var names = File.ReadAllLines(Path.Combine(CliRun.RepoRoot, "Ppcls.Inference", "Labels", "imagenet1k_label_list.txt"));
        string expected = string.Join(", ", Favoured.Select(id => "'" + names[id][(names[id].IndexOf(' ') + 1)..] + "'"));
        Assert.That(line.Groups["names"].Value, Is.EqualTo(expected));
        Assert.That(line.Groups["names"].Value, Does.StartWith("'golden retriever', 'goldfish, Carassius auratus'"));

        // ppcls infer on PaddleClas's own ImageNet config (its transforms, its label path) with the same file.
        var infer = CliRun.Of("infer", "-c", Path.Combine(CliRun.RepoRoot, "configs", "ImageNet", "PPLCNet", "PPLCNet_x0_25.yaml"),
            "-o", "Arch.pretrained=True", "-o", $"Infer.infer_imgs={_image}", "-o", $"Global.output_dir={Path.Combine(_root, "infer")}");
        Assert.That(infer.ExitCode, Is.EqualTo(0), infer.Error);
        string log = File.ReadAllText(Path.Combine(_root, "infer", "PPLCNet_x0_25", "infer.log"));
        var result = InferResult().Match(log);
        Assert.That(result.Success, Is.True, log);
        Assert.That(Ints(result.Groups["ids"].Value), Is.EqualTo(Favoured));
        Assert.That(Doubles(line.Groups["scores"].Value), Is.EqualTo(Doubles(result.Groups["scores"].Value)).Within(2e-5));
        Assert.That(log, Does.Contain("'label_names': ['golden retriever'"), "ppcls/utils/imagenet1k_label_list.txt resolves to the shipped list");
        Assert.That(log, Does.Contain($"Arch.pretrained: loaded").And.Contain("PPLCNet_x0_25_pretrained.pdparams"));
    }

    [Test]
    public void A_missing_pretrained_file_is_one_line_naming_the_file_the_folder_and_PaddleClas_address()
    {
        var run = CliRun.Of("predict", "--model", "PPHGNetV2_B4", "--image", _image);
        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        string error = run.Error.Trim();
        Assert.That(error.Split('\n'), Has.Length.EqualTo(1), error);
        Assert.That(error, Does.Contain("PPHGNetV2_B4_ssld_pretrained.pdparams not found in " + _home));
        Assert.That(error, Does.Contain("https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/legendary_models/PPHGNetV2_B4_ssld_pretrained.pdparams"));

        // Arch.pretrained: True with use_ssld names the SSLD file: a training run stops, a check run warns and passes.
        string[] ssld = ["train", .. _demo.Overrides(_demo.NewOutput(), epochs: 1), "-o", "Arch.pretrained=True", "-o", "Arch.use_ssld=True"];
        var train = CliRun.Of(ssld);
        Assert.That(train.ExitCode, Is.Not.EqualTo(0));
        Assert.That(train.Error, Does.Contain("Arch.pretrained: PPLCNet_x0_25_ssld_pretrained.pdparams not found in " + _home)
            .And.Contain("legendary_models/PPLCNet_x0_25_ssld_pretrained.pdparams"));
        string output = _demo.NewOutput();
        var check = CliRun.Of(["train", .. _demo.Overrides(output, epochs: 1), "-o", "Arch.pretrained=True", "-o", "Arch.use_ssld=True", "--check"]);
        Assert.That(check.ExitCode, Is.EqualTo(0), check.Error);
        Assert.That(File.ReadAllText(Path.Combine(output, "PPLCNet_x0_25", "train.log")), Does.Contain("PPLCNet_x0_25_ssld_pretrained.pdparams not found").And.Contain("(a training run stops here)"));
    }

    [Test]
    public void Arch_pretrained_True_fine_tunes_from_the_named_file()
    {
        string output = _demo.NewOutput();
        var run = CliRun.Of(["train", .. _demo.Overrides(output, epochs: 1), "-o", "Arch.pretrained=True", "--check"]);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string printed = File.ReadAllText(Path.Combine(output, "PPLCNet_x0_25", "train.log"));
        Assert.That(printed, Does.Contain("Arch.pretrained: loaded").And.Contain(Path.Combine(_home, "PPLCNet_x0_25_pretrained.pdparams")));
        Assert.That(printed, Does.Contain("fc.weight"), "the 1000-class classifier is skipped for class_num 4");
    }

    [Test]
    public void Weights_list_shows_which_models_have_their_file()
    {
        var run = CliRun.Of("weights", "list", "--all");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Output, Does.Contain("pretrained weights in " + _home));
        Assert.That(run.Output, Does.Match(@"PPLCNet_x0_25\s+present\s+PPLCNet_x0_25_pretrained\.pdparams"));
        Assert.That(run.Output, Does.Match(@"PPHGNetV2_B0\s+missing\s+PPHGNetV2_B0_ssld_pretrained\.pdparams"));
        Assert.That(run.Output, Does.Match(@"MobileNetV2_x0_25\s+missing\s+MobileNetV2_x0_25_pretrained\.pdparams"));
        int models = ModelZoo.CreateRegistry().Entries.Count();
        Assert.That(run.Output, Does.Contain($"1 of {models} models have weights"));
    }

    [TestCase("PPLCNet_x1_0", false, "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/legendary_models/PPLCNet_x1_0_pretrained.pdparams")]
    [TestCase("PPLCNet_x1_0", true, "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/legendary_models/PPLCNet_x1_0_ssld_pretrained.pdparams")]
    [TestCase("PPHGNetV2_B4", false, "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/legendary_models/PPHGNetV2_B4_ssld_pretrained.pdparams")]
    [TestCase("PPLCNetV2_base", false, "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/legendary_models/PPLCNetV2_base_pretrained.pdparams")]
    [TestCase("PPHGNet_tiny", false, "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/legendary_models/PPHGNet_tiny_pretrained.pdparams")]
    [TestCase("ResNet50_vd", false, "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/legendary_models/ResNet50_vd_pretrained.pdparams")]
    [TestCase("MobileNetV2_x0_25", false, "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/MobileNetV2_x0_25_pretrained.pdparams")]
    [TestCase("Res2Net50_vd_26w_4s", false, "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/Res2Net50_vd_26w_4s_pretrained.pdparams")]
    public void Published_addresses_are_PaddleClas_MODEL_URLS(string name, bool ssld, string url)
    {
        var entry = ModelZoo.CreateRegistry().Get(name);
        Assert.That(PretrainedStore.PublishedUrl(name, entry.Preset, ssld), Is.EqualTo(url));
    }
}
