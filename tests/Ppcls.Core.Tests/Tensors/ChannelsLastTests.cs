using NUnit.Framework;
using Ppcls.Core.Checkpoint;
using Ppcls.Core.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Tensors;

public class ChannelsLastTests
{
    static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    [Test]
    public void OfGivesNhwcStridesAndKeepsValues()
    {
        using var x = randn(2, 3, 4, 5);
        using var y = ChannelsLast.Of(x);
        Assert.That(y.shape, Is.EqualTo(new long[] { 2, 3, 4, 5 }));
        Assert.That(y.stride(), Is.EqualTo(new long[] { 60, 1, 15, 3 }));
        Assert.That(ChannelsLast.Is(y), Is.True);
        Assert.That(ChannelsLast.Is(x), Is.False);
        Assert.That(Same(y, x), Is.True);
        Assert.That(ReferenceEquals(ChannelsLast.Of(y), y), Is.True, "an NHWC tensor is returned as it is");
        using var back = y.contiguous();
        Assert.That(back.stride(), Is.EqualTo(new long[] { 60, 20, 5, 1 }), "contiguous() is NCHW again: what files get");
    }

    [Test]
    public void OneByOneKernelsAndVectorsCountAsBothOrNeither()
    {
        using var pointwise = randn(8, 4, 1, 1);
        Assert.That(ChannelsLast.Is(pointwise), Is.True, "a 1x1 kernel's NCHW strides are NHWC strides too");
        using var vector = randn(8);
        Assert.That(ChannelsLast.Is(vector), Is.False);
        Assert.That(ReferenceEquals(ChannelsLast.Of(vector), vector), Is.True);
    }

    [Test]
    public void ApplyChangesStorageNotParameterObjects()
    {
        var conv = nn.Conv2d(3, 6, 3);
        var bn = nn.BatchNorm2d(6);
        var model = nn.Sequential(conv, bn);
        var weight = conv.weight!;
        using var before = weight.detach().clone();
        Assert.That(ChannelsLast.Apply(model), Is.EqualTo(1), "the conv weight; BN and bias are 1-D");
        Assert.That(ReferenceEquals(conv.weight, weight), Is.True);
        Assert.That(ChannelsLast.Is(conv.weight!), Is.True);
        Assert.That(Same(conv.weight!, before), Is.True);
        Assert.That(conv.weight!.requires_grad, Is.True);
        Assert.That(ChannelsLast.Apply(model), Is.EqualTo(0), "applying twice changes nothing");
    }

    [Test]
    public void ConvBnReluKeepsNhwcThroughForwardAndBackward()
    {
        var conv = nn.Conv2d(4, 8, 3, padding: 1, bias: false);
        var model = nn.Sequential(conv, nn.BatchNorm2d(8), nn.ReLU6());
        ChannelsLast.Apply(model);
        using var x = ChannelsLast.Of(randn(2, 4, 6, 6)).requires_grad_();
        using var y = model.call(x);
        Assert.That(ChannelsLast.Is(y), Is.True, "the output of conv -> BN -> ReLU6");
        y.sum().backward();
        Assert.That(ChannelsLast.Is(conv.weight!.grad!), Is.True, "the weight's gradient has the weight's layout");
        Assert.That(ChannelsLast.Is(x.grad!), Is.True);
    }

    [Test]
    public void OptimizerStateSavedFromNhwcParametersResumesTheSameSteps()
    {
        // SGD momentum buffers take their parameter's strides; TorchSharp's state file must still round-trip them.
        static (nn.Module<Tensor, Tensor> Model, optim.Optimizer Sgd) Make()
        {
            manual_seed(3);
            var model = nn.Sequential(nn.Conv2d(3, 5, 3), nn.Flatten(), nn.Linear(5 * 4 * 4, 2));
            ChannelsLast.Apply(model);
            return (model, optim.SGD(model.parameters(), 0.1, momentum: 0.9));
        }
        using var x = ChannelsLast.Of(randn(4, 3, 6, 6));
        void Step(nn.Module<Tensor, Tensor> m, optim.Optimizer o)
        {
            o.zero_grad();
            m.call(x).square().mean().backward();
            o.step();
        }
        var (a, sgdA) = Make();
        Step(a, sgdA);
        string path = Path.Combine(Path.GetTempPath(), $"ppcls-cl-{Guid.NewGuid():N}.optim");
        try
        {
            using (var stream = File.Create(path))
            using (var writer = new BinaryWriter(stream)) OptimizerStateFile.Save((OptimizerHelper)sgdA, writer);
            var (b, sgdB) = Make();
            using (no_grad()) foreach (var (pa, pb) in a.parameters().Zip(b.parameters())) pb.copy_(pa);
            OptimizerStateFile.Load((OptimizerHelper)sgdB, path);
            Step(a, sgdA);
            Step(b, sgdB);
            Assert.That(ChannelsLast.IsStrictly(((SGD.State)((OptimizerHelper)sgdB).state_dict().State[0]).momentum_buffer), Is.True,
                "the loaded momentum buffer keeps its parameter's layout");
            foreach (var (pa, pb) in a.parameters().Zip(b.parameters()))
                Assert.That(Same(pb, pa), Is.True, "the resumed run takes the same step");
        }
        finally { File.Delete(path); }
    }
}
