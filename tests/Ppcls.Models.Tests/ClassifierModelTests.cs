using System.Globalization;
using Ppcls.Core.Config;
using Ppcls.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>
/// The model interface on every registered variant: forward is the head applied to the features, the
/// features are a feature map before pooling, the classifier key is the preset's and names the
/// classifier weight, and a reset classifier has the new width and leaves every other weight alone.
/// </summary>
public sealed class ClassifierModelTests
{
    public static IEnumerable<string> AllVariants => ModelZoo.CreateRegistry().Names;

    static nn.Module<Tensor, Tensor> Build(string name, int classNum)
    {
        var options = new ConfigMap { ["class_num"] = new ConfigScalar(classNum.ToString(CultureInfo.InvariantCulture)) };
        return ModelZoo.CreateRegistry().Get(name).Create(new ConfigSection(options, "Arch"));
    }

    [TestCaseSource(nameof(AllVariants))]
    public void Forward_is_the_head_applied_to_the_features(string name)
    {
        manual_seed(7);
        using var model = Build(name, 5);
        var classifier = (IClassifierModel)model;
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 64, 64);

        var logits = model.call(x);
        var features = classifier.ForwardFeatures(x);
        var composed = classifier.ForwardHead(features);
        var preLogits = classifier.ForwardHead(features, preLogits: true);

        Assert.Multiple(() =>
        {
            Assert.That(features.dim(), Is.EqualTo(4), "features are a feature map, before pooling");
            Assert.That(features.shape[0], Is.EqualTo(2));
            Assert.That(composed.shape, Is.EqualTo(new long[] { 2, 5 }));
            Assert.That(composed.allclose(logits, rtol: 0, atol: 0), Is.True, "forward(x) == ForwardHead(ForwardFeatures(x))");
            Assert.That(preLogits.shape, Is.EqualTo(new long[] { 2, classifier.FeatureSize }));
            Assert.That(classifier.Classifier.call(preLogits).allclose(logits, rtol: 0, atol: 0), Is.True, "the pre-logits are the classifier's input");
            Assert.That(classifier.ClassNum, Is.EqualTo(5));
        });
    }

    [TestCaseSource(nameof(AllVariants))]
    public void The_classifier_key_is_the_presets_and_names_the_classifier_weight(string name)
    {
        using var model = Build(name, 5);
        var classifier = (IClassifierModel)model;
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);

        Assert.Multiple(() =>
        {
            Assert.That(classifier.ClassifierKey, Is.EqualTo(ModelZoo.CreateRegistry().Get(name).Preset.ClassifierKey));
            Assert.That(parameters[classifier.ClassifierKey].shape, Is.EqualTo(new long[] { 5, classifier.FeatureSize }));
            Assert.That(ReferenceEquals(parameters[classifier.ClassifierKey], classifier.Classifier.weight), Is.True);
        });
    }

    [TestCaseSource(typeof(ModelFusionTests), nameof(ModelFusionTests.OnePerFamily))]
    public void Reset_classifier_gives_the_new_width_and_keeps_every_other_weight(string name)
    {
        manual_seed(3);
        using var model = Build(name, 5);
        var classifier = (IClassifierModel)model;
        string weightKey = classifier.ClassifierKey, biasKey = weightKey.Replace(".weight", ".bias");
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var keysBefore = model.state_dict().Keys.ToList();
        using (no_grad())
        {
            classifier.Classifier.weight.fill_(0.5f);
            classifier.Classifier.bias!.fill_(0.5f);
        }

        classifier.ResetClassifier(12);

        var after = model.state_dict();
        var fresh = classifier.Classifier;
        double bound = Math.Sqrt(6.0 / (classifier.FeatureSize + 12)); // Xavier-uniform, as at construction
        Assert.Multiple(() =>
        {
            Assert.That(after.Keys, Is.EqualTo(keysBefore), "same keys, same order");
            Assert.That(classifier.ClassNum, Is.EqualTo(12));
            Assert.That(after[weightKey].shape, Is.EqualTo(new long[] { 12, classifier.FeatureSize }));
            Assert.That(after[biasKey].shape, Is.EqualTo(new long[] { 12 }));
            Assert.That(after[biasKey].abs().max().item<float>(), Is.Zero, "a fresh bias starts at zero");
            Assert.That(after[weightKey].abs().max().item<float>(), Is.LessThanOrEqualTo(bound).And.GreaterThan(0f));
            Assert.That(fresh.weight.requires_grad, Is.True);
            Assert.That(keysBefore.Where(k => k != weightKey && k != biasKey && !after[k].allclose(before[k], rtol: 0, atol: 0)), Is.Empty, "weights outside the classifier are unchanged");
        });
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Assert.That(model.call(randn(1, 3, 64, 64)).shape, Is.EqualTo(new long[] { 1, 12 }));
    }

    [Test]
    public void Reset_classifier_keeps_the_dtype_and_the_mode()
    {
        using var model = Build("PPLCNet_x0_25", 5);
        model.to(ScalarType.Float64);
        model.eval();
        var classifier = (IClassifierModel)model;

        classifier.ResetClassifier(3);

        Assert.Multiple(() =>
        {
            Assert.That(classifier.Classifier.weight.dtype, Is.EqualTo(ScalarType.Float64));
            Assert.That(classifier.Classifier.training, Is.False);
        });
    }
}
