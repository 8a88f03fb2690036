using Ppcls.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Engine;

public sealed class BackboneFreezeTests
{
    static nn.Module<Tensor, Tensor> Net() => nn.Sequential(
        ("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()),
        ("dropout", nn.Dropout(0.5)), ("fc", nn.Linear(4, 2)));

    [Test]
    public void Only_the_classifier_takes_gradients_and_frozen_batch_norm_stays_in_eval_mode()
    {
        using var model = Net();

        var freeze = BackboneFreeze.Apply(model, "fc.weight");
        model.train();
        freeze.KeepStatistics(model);

        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name);
        Assert.That(trainable, Is.EqualTo(new[] { "fc.weight", "fc.bias" }));
        var modes = model.named_modules().ToDictionary(m => m.name, m => m.module.training);
        Assert.That(modes["bn"], Is.False, "BN keeps the pretrained statistics");
        Assert.That(modes["dropout"] && modes["fc"] && modes["conv"], Is.True, "layers without running statistics keep train mode");
        var before = model.state_dict()["bn.running_mean"].clone();
        using (var x = randn(8, 3, 6, 6).mul(3).add(2)) model.call(x).sum().backward();
        Assert.That(model.state_dict()["bn.running_mean"].eq(before).all().item<bool>(), Is.True, "a training forward leaves the statistics alone");
        Assert.That(model.named_parameters().Where(p => p.parameter.grad is not null).Select(p => p.name), Is.EqualTo(new[] { "fc.weight", "fc.bias" }));
    }
}
