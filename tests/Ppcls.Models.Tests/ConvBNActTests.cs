using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

public sealed class ConvBNActTests
{
    [TestCase(2, 1, 9)]
    [TestCase(2, 1, 8)]
    [TestCase(3, 1, 7)]
    public void The_same_padded_conv_equals_a_conv_on_the_right_bottom_padded_input(int kernel, int stride, int size)
    {
        using var block = new ConvBNAct(4, 6, kernelSize: kernel, stride: stride, useAct: false, samePadding: true);
        block.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(2, 4, size, size);

        var (top, bottom) = ConvBNAct.SamePadding(size, kernel, stride);
        var reference = nn.functional.conv2d(nn.functional.pad(x, [top, bottom, top, bottom]), block.Conv.weight!, null, [stride, stride]);
        var bn = block.Bn!;
        var expected = (reference - bn.RunningMean.view(1, -1, 1, 1)) / (bn.RunningVariance.view(1, -1, 1, 1) + bn.Epsilon).sqrt()
            * bn.Weight.view(1, -1, 1, 1) + bn.Bias.view(1, -1, 1, 1);

        var actual = block.call(x);
        Assert.That(actual.shape, Is.EqualTo(expected.shape));
        Assert.That(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), Is.True);
    }
}
