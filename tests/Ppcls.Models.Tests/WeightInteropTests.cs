using System.Globalization;
using System.Text.Json;
using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>
/// Weight files against the real models: the Paddle layout rule holds for every registered
/// variant, every format round-trips to identical tensors and outputs, numpy-written
/// .pdparams load by PaddleClas name, and timm's HGNet keys map onto Ppcls's.
/// </summary>
public sealed class WeightInteropTests
{
    static readonly ModelRegistry Registry = ModelZoo.CreateRegistry();

    public static IEnumerable<string> AllVariants => Registry.Names;

    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-weights-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static bool Same(Tensor x, Tensor y) => x.dtype == y.dtype && x.shape.SequenceEqual(y.shape) && x.eq(y).all().item<bool>();

    static nn.Module<Tensor, Tensor> Build(string name, int classNum = 10)
    {
        var options = new ConfigMap { ["class_num"] = new ConfigScalar(classNum.ToString(CultureInfo.InvariantCulture)) };
        return Registry.Get(name).Create(new ConfigSection(options, "Arch"));
    }

    [TestCaseSource(nameof(AllVariants))]
    public void The_only_two_dimensional_weights_are_Linear_weights(string name)
    {
        using var model = Build(name);
        var linear = model.named_modules().Where(m => m.module is Linear).Select(m => m.name + ".weight").ToHashSet();
        var twoDimensional = model.state_dict().Where(kv => PaddleLayout.IsLinearByShape(kv.Key, kv.Value)).Select(kv => kv.Key).ToHashSet();

        Assert.That(linear, Is.Not.Empty);
        Assert.That(twoDimensional, Is.EquivalentTo(linear), "without a model, PaddleLayout transposes exactly the Linear weights");
    }

    [TestCase("PPHGNetV2_B0", ".pdparams")]
    [TestCase("PPHGNetV2_B0", ".safetensors")]
    [TestCase("PPLCNetV2_base", ".pdparams")]
    [TestCase("MobileNetV2_x0_25", ".pdparams")]
    public void Saved_weights_load_back_to_identical_tensors_and_outputs(string name, string extension)
    {
        manual_seed(11);
        using var source = Build(name);
        using (no_grad())
            foreach (var (key, buffer) in source.named_buffers()) buffer.copy_(rand_like(buffer).add_(0.5)); // BN statistics that differ from the defaults
        manual_seed(12);
        using var target = Build(name);
        string path = Path.Combine(_dir, "w" + extension);

        WeightFile.Write(path, WeightLoader.StateDict(source), PaddleLayout.LinearWeightsOf(source), "test");
        var (file, report) = WeightLoader.Load(new WeightRequest(Path.Combine(_dir, "w"), "Global.pretrained_model", target, Registry.Get(name).Preset), ClassifierPolicy.MustFit, strict: true, _ => { }, _ => { });

        Assert.That(file, Is.EqualTo(path));
        Assert.That(report.Clean && report.SkippedClassifier.Count == 0, Is.True, WeightLoader.Describe(report));
        var expected = source.state_dict();
        var actual = target.state_dict();
        Assert.That(actual.Keys.Where(k => !Same(actual[k], expected[k])), Is.Empty, "tensors that differ after the round trip");
        source.eval();
        target.eval();
        using var input = randn(2, 3, 64, 64);
        using (no_grad())
            Assert.That(Same(target.call(input), source.call(input)), Is.True, "identical outputs");
    }

    [Test]
    public void A_pdparams_file_stores_Linear_weights_in_Paddle_layout()
    {
        manual_seed(3);
        using var model = Build("PPLCNet_x0_25", 7);
        string path = Path.Combine(_dir, "w.pdparams");

        WeightFile.Write(path, WeightLoader.StateDict(model), PaddleLayout.LinearWeightsOf(model), "test");
        var raw = PdparamsFile.Read(path);

        var fc = model.state_dict()["fc.weight"];
        Assert.That(fc.shape, Is.EqualTo(new long[] { 7, 1280 }));
        Assert.That(raw["fc.weight"].shape, Is.EqualTo(new long[] { 1280, 7 }), "Paddle's nn.Linear weight is [in, out]");
        Assert.That(Same(raw["fc.weight"], fc.t()), Is.True);
        Assert.That(raw.Keys, Is.EqualTo(model.state_dict().Keys), "the model's names in its order; BN statistics as _mean/_variance");
    }

    [Test]
    public void A_pdparams_written_by_numpy_with_PaddleClas_names_loads_every_value()
    {
        if (TestFixtures.PythonWithNumpy is not { } python) { Assert.Ignore("python3-numpy is not installed (scripts/setup.sh installs it)"); return; }
        using var model = Build("PPLCNet_x0_25", 5);
        // PaddleClas's shapes: the Linear weight as [in, out].
        var spec = model.state_dict().Select(kv => new object[] { kv.Key, kv.Key == "fc.weight" ? kv.Value.shape.Reverse().ToArray() : kv.Value.shape }).ToList();
        string specPath = Path.Combine(_dir, "spec.json"), pdparams = Path.Combine(_dir, "numpy.pdparams"), raw = Path.Combine(_dir, "raw.bin");
        File.WriteAllText(specPath, JsonSerializer.Serialize(spec));

        TestFixtures.RunPython(python, TestFixtures.Path("numpy_pdparams.py"), "random", specPath, pdparams, raw);
        var (_, report) = WeightLoader.Load(new WeightRequest(pdparams, "Arch.pretrained", model, Registry.Get("PPLCNet_x0_25").Preset), ClassifierPolicy.MustFit, strict: true, _ => { }, _ => { });

        Assert.That(report.Clean && report.Loaded == spec.Count, Is.True, WeightLoader.Describe(report));
        using var bytes = new BinaryReader(File.OpenRead(raw));
        foreach (var (key, tensor) in model.state_dict())
        {
            long count = tensor.numel();
            var expected = Enumerable.Range(0, (int)count).Select(_ => bytes.ReadSingle()).ToArray();
            var actual = (key == "fc.weight" ? tensor.t() : tensor).contiguous().data<float>().ToArray();
            Assert.That(actual, Is.EqualTo(expected), key);
        }
        Assert.That(bytes.BaseStream.Position, Is.EqualTo(bytes.BaseStream.Length));
    }

    static Dictionary<string, List<(string Key, long[] Shape)>> TimmKeys()
    {
        var variants = new Dictionary<string, List<(string, long[])>>();
        List<(string, long[])>? current = null;
        foreach (var line in File.ReadLines(TestFixtures.Path("weights", "timm_hgnet_keys.txt")))
        {
            if (line.StartsWith("# timm ", StringComparison.Ordinal)) continue;
            if (line.StartsWith("# ", StringComparison.Ordinal)) { variants[line[2..]] = current = []; continue; }
            var parts = line.Split(' ');
            current!.Add((parts[0], parts[1].Length == 0 ? [] : parts[1].Split(',').Select(long.Parse).ToArray()));
        }
        return variants;
    }

    public static IEnumerable<TestCaseData> TimmVariants =>
    [
        new("hgnet_tiny", "PPHGNet_tiny"), new("hgnet_small", "PPHGNet_small"), new("hgnet_base", "PPHGNet_base"),
        .. Enumerable.Range(0, 7).Select(i => new TestCaseData($"hgnetv2_b{i}", $"PPHGNetV2_B{i}")),
    ];

    [TestCaseSource(nameof(TimmVariants))]
    public void Every_timm_key_maps_onto_the_PaddleClas_key_of_the_same_shape(string timmName, string name)
    {
        var timm = TimmKeys()[timmName]; // written by timm itself: tests/fixtures/make_timm_hgnet_keys.py
        using var model = Build(name, 1000);
        var ours = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        using var scope = NewDisposeScope();
        var weights = timm.ToDictionary(k => k.Key, k => zeros(k.Shape));

        var mapped = TorchKeyNames.ToPaddleNames(weights, Registry.Get(name).Preset.TimmKeyMap);

        Assert.That(mapped.Keys, Is.EquivalentTo(ours.Keys));
        Assert.That(mapped.Where(kv => !kv.Value.shape.SequenceEqual(ours[kv.Key])).Select(kv => kv.Key), Is.Empty, "keys whose shapes differ");
    }
}
