using Ppcls.Core.Checkpoint;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Checkpoint;

public sealed class WeightLoaderTests
{
    static nn.Module<Tensor, Tensor> Net(int classes) => nn.Sequential(
        ("conv", nn.Conv2d(3, 4, 3)), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(4, classes)));

    [Test]
    public void A_different_class_count_skips_only_the_classifier()
    {
        var source = Net(10);
        var target = Net(5);

        var report = WeightLoader.Load(target, WeightLoader.StateDict(source), "fc.weight", strict: true, "pretrained");

        Assert.That(report.SkippedClassifier, Is.EquivalentTo(new[] { "fc.weight", "fc.bias" }));
        Assert.That(report.Clean, Is.True);
        Assert.That(report.Loaded, Is.EqualTo(2));
        Assert.That(WeightLoader.StateDict(target)["conv.weight"].eq(WeightLoader.StateDict(source)["conv.weight"]).all().item<bool>(), Is.True);
    }

    [Test]
    public void Missing_unexpected_and_mismatched_keys_are_reported_together()
    {
        var weights = WeightLoader.StateDict(Net(5));
        weights.Remove("conv.bias");
        weights["extra.weight"] = zeros(2);
        weights["conv.weight"] = zeros(4, 3, 5, 5);

        var e = Assert.Throws<PpclsUserException>(() => WeightLoader.Load(Net(5), weights, "fc.weight", strict: true, "w.safetensors"))!;

        Assert.That(e.Message, Does.StartWith("w.safetensors: the weights do not fit the model: "));
        Assert.That(e.Message, Does.Contain("missing 1 key(s): conv.bias;"));
        Assert.That(e.Message, Does.Contain("unexpected 1 key(s): extra.weight"));
        Assert.That(e.Message, Does.Contain("shape mismatch in 1 key(s): conv.weight (file [4,3,5,5], model [4,3,3,3])"));
        Assert.That(e.Message, Does.Contain("Global.strict_load=false"));
    }

    [Test]
    public void Non_strict_loading_reports_instead_of_failing()
    {
        var weights = WeightLoader.StateDict(Net(5));
        weights["extra.weight"] = zeros(2);

        var report = WeightLoader.Load(Net(5), weights, "fc.weight", strict: false, "w");

        Assert.That(report.Unexpected, Is.EqualTo(new[] { "extra.weight" }));
        Assert.That(report.Loaded, Is.EqualTo(4));
    }

    [Test]
    public void A_path_without_extension_resolves_to_the_safetensors_file()
    {
        string dir = Directory.CreateTempSubdirectory("ppcls-resolve-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "best_model.safetensors"), "x");
            Assert.That(WeightLoader.Resolve(Path.Combine(dir, "best_model"), "Global.pretrained_model"),
                Is.EqualTo(Path.Combine(dir, "best_model.safetensors")));
            var e = Assert.Throws<PpclsUserException>(() => WeightLoader.Resolve(Path.Combine(dir, "nope"), "Global.pretrained_model"))!;
            Assert.That(e.Message, Does.StartWith("Global.pretrained_model: no weights at"));
            var url = Assert.Throws<PpclsUserException>(() => WeightLoader.Resolve("https://example.com/rec/general.pdparams", "Global.pretrained_model"))!;
            Assert.That(url.Message, Is.EqualTo("Global.pretrained_model: 'https://example.com/rec/general.pdparams' is a URL; Ppcls does not download weights, " +
                "so download the file and set Global.pretrained_model to its local path"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
