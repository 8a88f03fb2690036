using Ppcls.Core.Checkpoint;
using Ppcls.Core.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Engine;

public sealed class ModelEmaTests
{
    static nn.Module<Tensor, Tensor> Net() => nn.Sequential(("fc", nn.Linear(3, 2)), ("bn", nn.BatchNorm1d(2)));

    [Test]
    public void Each_update_moves_the_average_by_one_minus_decay_towards_the_model()
    {
        var model = Net();
        var ema = new ModelEma(model, Net(), decay: 0.9);
        var before = WeightLoader.StateDict(model)["fc.weight"].clone();

        using (no_grad()) WeightLoader.StateDict(model)["fc.weight"].add_(1.0);
        ema.Update();

        var expected = before * 0.9 + (before + 1.0) * 0.1;
        Assert.That(WeightLoader.StateDict(ema.Module)["fc.weight"].allclose(expected, 1e-6, 1e-7), Is.True);
    }

    [Test]
    public void Integer_state_such_as_batch_counters_is_copied_not_averaged()
    {
        var model = Net();
        var ema = new ModelEma(model, Net(), decay: 0.5);
        model.train();
        using (no_grad()) model.call(randn(4, 3));

        ema.Update();

        Assert.That(WeightLoader.StateDict(ema.Module)["bn.num_batches_tracked"].item<long>(), Is.EqualTo(1));
    }

    [Test]
    public void The_average_is_frozen_and_in_eval_mode()
    {
        var ema = new ModelEma(Net(), Net(), 0.99);

        Assert.That(ema.Module.training, Is.False);
        Assert.That(ema.Module.parameters().All(p => !p.requires_grad), Is.True);
    }
}
