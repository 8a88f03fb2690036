using Ppcls.Core.Config;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>PaddleClas's PP-ShiTu backbone variants (<c>variant_models/pp_lcnet_variant.py</c>, <c>pp_lcnetv2_variant.py</c>).</summary>
public sealed class ShiTuBackboneTests
{
    static IClassifierModel Build(string name, string yaml = "") =>
        (IClassifierModel)ModelZoo.CreateRegistry().Get(name).Create(yaml.Length == 0
            ? ConfigSection.Empty("Arch")
            : new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "a.yaml"), "Arch"));

    static nn.Module<Tensor, Tensor> Module(IClassifierModel model) => (nn.Module<Tensor, Tensor>)model;

    [Test]
    public void PPLCNet_x2_5_Tanh_is_PPLCNet_x2_5_with_tanh_after_fc_origin_layer()
    {
        manual_seed(1);
        var plain = Module(Build("PPLCNet_x2_5", "class_num: 16"));
        var tanh = Build("PPLCNet_x2_5_Tanh", "class_num: 16");
        var keys = Module(tanh).state_dict().Keys.ToList();
        var expected = plain.state_dict().Keys.Select(k => k.StartsWith("fc.", StringComparison.Ordinal) ? "fc.origin_layer." + k[3..] : k).ToList();

        Assert.That(keys, Is.EqualTo(expected));
        Assert.That(tanh.ClassifierKey, Is.EqualTo("fc.origin_layer.weight"));
        Assert.That(ModelZoo.CreateRegistry().Get("PPLCNet_x2_5_Tanh").Preset.ClassifierKey, Is.EqualTo("fc.origin_layer.weight"));

        // The same weights give tanh of PPLCNet_x2_5's logits.
        var weights = plain.state_dict();
        using (no_grad())
            foreach (var (name, tensor) in Module(tanh).state_dict())
                tensor.copy_(weights[name.Replace("fc.origin_layer.", "fc.")]);
        plain.eval();
        Module(tanh).eval();
        var x = randn(2, 3, 64, 64);
        var logits = plain.call(x);
        var y = Module(tanh).call(x);
        Assert.That(y.sub(logits.tanh()).abs().max().item<float>(), Is.LessThan(1e-5f));

        tanh.ResetClassifier(7);
        Assert.That(Module(tanh).state_dict()["fc.origin_layer.weight"].shape, Is.EqualTo(new long[] { 7, 1280 }));
        Assert.That(Module(tanh).call(x).shape, Is.EqualTo(new long[] { 2, 7 }), "the reset classifier is the one that runs");
    }

    [Test]
    public void PPLCNetV2_base_ShiTu_keeps_the_last_stage_resolution_and_adds_a_last_conv_bias_without_relu()
    {
        manual_seed(1);
        var base_ = Build("PPLCNetV2_base");
        var shitu = Build("PPLCNetV2_base_ShiTu", "class_expand: 512\nclass_num: 10");
        var baseKeys = Module(base_).state_dict().Keys.ToList();

        // At stride 1 the first last-stage block gains its 1x1 rep branch (512 channels), as PaddleClas rebuilds it.
        const string branch = "stages.3.0.dw_conv_list.2.";
        Assert.That(Module(shitu).state_dict().Keys.Except(baseKeys), Is.EquivalentTo(new[]
        {
            "last_conv.bias", branch + "conv.weight", branch + "bn.weight", branch + "bn.bias", branch + "bn._mean", branch + "bn._variance",
        }));
        Assert.That(baseKeys.Except(Module(shitu).state_dict().Keys), Is.Empty);
        // PaddleClas's PPLCNetV2_base has 6,800,360 parameters (published figures test); class_expand 1280 -> 512, fc 1000 -> 10,
        // plus the last conv's bias (512) and the 1x1 branch (512 weights, 2 x 512 BN affine).
        long expected = 6_800_360 - (1024 * 1280 - 1024 * 512) - (1280 * 1000 + 1000 - 512 * 10 - 10) + 512 + 3 * 512;
        Assert.That(Module(shitu).parameters().Sum(p => p.numel()), Is.EqualTo(expected));

        Module(shitu).eval();
        Module(base_).eval();
        var x = randn(1, 3, 64, 64);
        Assert.That(shitu.ForwardFeatures(x).shape, Is.EqualTo(new long[] { 1, 1024, 4, 4 }), "stride 16: the last stage does not downsample");
        Assert.That(base_.ForwardFeatures(x).shape, Is.EqualTo(new long[] { 1, 1024, 2, 2 }));
        var features = shitu.ForwardHead(shitu.ForwardFeatures(x), preLogits: true);
        Assert.That(features.shape, Is.EqualTo(new long[] { 1, 512 }));
        Assert.That(features.min().item<float>(), Is.LessThan(0f), "no ReLU after the last conv");
    }
}
