using Ppcls.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Models;

public sealed class ModelProfileTests
{
    static nn.Module<Tensor, Tensor> HandCountedNet() => nn.Sequential(
        ("conv", nn.Conv2d(3, 8, 3, stride: 2, padding: 1, bias: false)),   // 16x16 -> 8x8
        ("dw", nn.Conv2d(8, 8, 3, padding: 1, groups: 8, bias: false)),     // depthwise, 8x8
        ("pool", nn.AdaptiveAvgPool2d(1)),
        ("flat", nn.Flatten()),
        ("fc", nn.Linear(8, 5)));

    [Test]
    public void Macs_count_every_conv_and_linear_as_they_run()
    {
        var profile = ModelProfile.Measure(HandCountedNet(), imageSize: 16);

        long conv = 8 * 8 * 8 * (3 * 3 * 3); // outputs x (in/groups x k x k)
        long depthwise = 8 * 8 * 8 * (1 * 3 * 3);
        long fc = 5 * 8;
        Assert.That(profile.Macs, Is.EqualTo(conv + depthwise + fc));
        Assert.That(profile.TrainableParameters, Is.EqualTo(8 * 3 * 9 + 8 * 9 + 8 * 5 + 5));
        Assert.That(profile.InputShape, Is.EqualTo(new long[] { 1, 3, 16, 16 }));
        Assert.That(profile.OutputShape, Is.EqualTo(new long[] { 1, 5 }));
    }

    [Test]
    public void Measuring_leaves_the_model_in_its_mode_and_without_hooks()
    {
        var net = HandCountedNet();
        net.train();

        long first = ModelProfile.Measure(net, 16).Macs;
        long second = ModelProfile.Measure(net, 16).Macs;

        Assert.That(net.training, Is.True);
        Assert.That(second, Is.EqualTo(first), "hooks of the first measurement must not count again");
    }

    [Test]
    public void Frozen_parameters_are_not_counted_as_trainable()
    {
        var net = HandCountedNet();
        foreach (var p in net.parameters()) p.requires_grad = false;

        Assert.That(ModelProfile.Measure(net, 16).TrainableParameters, Is.Zero);
    }
}
