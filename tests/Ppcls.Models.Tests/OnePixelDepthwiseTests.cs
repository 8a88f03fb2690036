using Ppcls.Core.Tensors;
using Ppcls.Models.Layers;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>A depthwise ConvBNAct on a one-pixel map (its centre-tap product) against libtorch's convolution of the same weights.</summary>
public sealed class OnePixelDepthwiseTests
{
    [TestCase(3, 1, false)]
    [TestCase(3, 2, true)]
    [TestCase(5, 1, true)]
    [TestCase(5, 2, false)]
    public void Outputs_and_gradients_equal_the_convolution(int kernel, int stride, bool channelsLast)
    {
        manual_seed(11);
        var layer = new ConvBNAct(24, 24, kernel, stride, groups: 24, useAct: false);
        layer.eval(); // the BN's running statistics stay put between the two passes
        var x = randn(6, 24, 1, 1);
        if (channelsLast) ChannelsLast.Apply(layer);
        var weight = layer.Conv.weight!;

        var input = x.detach().requires_grad_(true);
        var y = layer.call(input);
        y.sum().backward();
        var (got, gotInput, gotWeight) = (y.detach().clone(), input.grad!.clone(), weight.grad!.clone());
        weight.grad!.zero_();

        var reference = x.detach().requires_grad_(true);
        var expected = layer.Bn!.call(nn.functional.conv2d(reference, weight, null, [stride, stride], [kernel / 2, kernel / 2], null, 24));
        expected.sum().backward();

        Assert.That(got.shape, Is.EqualTo(expected.shape));
        Assert.That(got.allclose(expected.detach(), rtol: 1e-6, atol: 1e-7), Is.True);
        Assert.That(gotInput.allclose(reference.grad!, rtol: 1e-6, atol: 1e-7), Is.True);
        Assert.That(gotWeight.allclose(weight.grad!, rtol: 1e-6, atol: 1e-7), Is.True, "the weight gradient, zero off the centre tap");
        Assert.That(gotWeight.abs().sum().item<float>(), Is.GreaterThan(0f));
    }
}
