using Ppcls.Core.Checkpoint;
using Ppcls.Core.Reporting;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Checkpoint;

public sealed class CheckpointStoreTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-ckpt-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static nn.Module<Tensor, Tensor> Net(int classes = 3) => nn.Sequential(
        ("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)), ("pool", nn.AdaptiveAvgPool2d(1)),
        ("flat", nn.Flatten()), ("fc", nn.Linear(4, classes)));

    static TrainingState State(long step) => new("Net", 3, Epoch: 2, GlobalStep: step, BestMetric: 0.75, BestEpoch: 1, EvalsWithoutImprovement: 1);

    [Test]
    public void A_saved_checkpoint_loads_back_with_identical_weights_state_and_optimizer_momentum()
    {
        var model = Net();
        var optimizer = optim.SGD(model.parameters(), 0.1, momentum: 0.9);
        using (var scope = NewDisposeScope())
        {
            optimizer.zero_grad();
            model.call(randn(2, 3, 8, 8)).sum().backward();
            optimizer.step();
        }
        string prefix = Path.Combine(_dir, "Net", "latest");

        CheckpointStore.Save(prefix, model, optimizer, ema: null, State(42));
        var loaded = CheckpointStore.Load(prefix, "Global.checkpoints");

        Assert.That(loaded.State, Is.EqualTo(State(42)));
        foreach (var (name, tensor) in WeightLoader.StateDict(model))
            Assert.That(loaded.Weights[name].eq(tensor).all().item<bool>(), Is.True, name);
        Assert.That(loaded.EmaWeights, Is.Null);

        // The optimizer state (momentum buffers) restores into a fresh optimizer: one more identical step gives identical weights.
        var twin = Net();
        WeightLoader.Load(twin, loaded.Weights, "fc.weight", strict: true, "test");
        var twinOptimizer = optim.SGD(twin.parameters(), 0.1, momentum: 0.9);
        twinOptimizer.load_state_dict(loaded.OptimizerStatePath!);
        var input = randn(2, 3, 8, 8);
        foreach (var (m, o) in new[] { (model, (optim.Optimizer)optimizer), (twin, twinOptimizer) })
        {
            using var scope = NewDisposeScope();
            o.zero_grad();
            m.call(input).sum().backward();
            o.step();
        }
        foreach (var (name, tensor) in WeightLoader.StateDict(model))
            Assert.That(WeightLoader.StateDict(twin)[name].allclose(tensor, 1e-6, 1e-7), Is.True, name);
    }

    [Test]
    public void Saving_leaves_only_the_checkpoint_files()
    {
        var model = Net();
        string prefix = Path.Combine(_dir, "best_model");

        CheckpointStore.Save(prefix, model, optimizer: null, ema: Net(), State(1));

        Assert.That(Directory.GetFiles(_dir).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "best_model.ema.safetensors", "best_model.safetensors", "best_model.state.json" }));
    }

    [Test]
    public void A_checkpoint_torn_by_a_crash_while_saving_is_refused()
    {
        string prefix = Path.Combine(_dir, "latest");
        CheckpointStore.Save(prefix, Net(), null, null, State(10));
        var newerWeights = Path.Combine(_dir, "newer");
        CheckpointStore.Save(newerWeights, Net(), null, null, State(20));
        File.Copy(CheckpointStore.WeightsPath(newerWeights), CheckpointStore.WeightsPath(prefix), overwrite: true);

        var e = Assert.Throws<PpclsUserException>(() => CheckpointStore.Load(prefix, "Global.checkpoints"))!;
        Assert.That(e.Message, Does.Contain("the weights (step 20) and the state (step 10) do not belong together"));
    }

    [Test]
    public void A_missing_checkpoint_names_the_key_and_the_expected_files()
    {
        var e = Assert.Throws<PpclsUserException>(() => CheckpointStore.Load(Path.Combine(_dir, "nope"), "Global.checkpoints"))!;

        Assert.That(e.Message, Does.StartWith("Global.checkpoints: no checkpoint at"));
        Assert.That(e.Message, Does.Contain("nope.safetensors"));
    }

    [Test]
    public void A_prefix_given_with_an_extension_still_loads()
    {
        string prefix = Path.Combine(_dir, "epoch_3");
        CheckpointStore.Save(prefix, Net(), null, null, State(3));

        Assert.That(CheckpointStore.Load(prefix + ".safetensors", "k").State.GlobalStep, Is.EqualTo(3));
    }

    [Test]
    public void The_epoch_history_round_trips_through_the_state_file_and_an_older_state_without_it_loads()
    {
        string prefix = Path.Combine(_dir, "latest");
        EpochRecord[] history = [new(1, 2.25, 0.1, 2.5, 0.25), new(2, 1.5, 0.05), new(3, 1.0, 0.01, double.NaN, 0.5)];

        CheckpointStore.Save(prefix, Net(), null, null, State(3) with { History = history });
        var loaded = CheckpointStore.Load(prefix, "k").State.History;

        Assert.That(loaded, Is.EqualTo(history)); // record equality: NaN equals NaN there

        // A state written before the history existed has no History key.
        string state = File.ReadAllText(CheckpointStore.StatePath(prefix));
        File.WriteAllText(CheckpointStore.StatePath(prefix), state[..state.IndexOf(",\n  \"History\"", StringComparison.Ordinal)] + "\n}");
        Assert.That(CheckpointStore.Load(prefix, "k").State, Is.EqualTo(State(3)));
    }
}
