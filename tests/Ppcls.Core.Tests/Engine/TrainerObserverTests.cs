using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Core.Engine;
using Ppcls.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Engine;

/// <summary>The Trainer's observer: epoch and iteration events with each step's timing, split inside the real step.</summary>
public sealed class TrainerObserverTests
{
    const int ClassNum = TinyTraining.ClassNum, Batches = TinyTraining.Batches;
    string _output = null!;

    [SetUp]
    public void MakeOutput() => _output = Directory.CreateTempSubdirectory("ppcls-trainer-observer-").FullName;

    [TearDown]
    public void RemoveOutput() => Directory.Delete(_output, recursive: true);

    sealed class Recorder : ITrainingObserver
    {
        public List<EpochStarted> Started { get; } = [];
        public List<IterationFinished> Iterations { get; } = [];
        public List<EpochFinished> Finished { get; } = [];
        public void OnEpochStarted(EpochStarted epoch) => Started.Add(epoch);
        public void OnIterationFinished(IterationFinished iteration) => Iterations.Add(iteration);
        public void OnEpochFinished(EpochFinished epoch) => Finished.Add(epoch);
    }

    TrainingSession Session(int epochs, int updateFreq, bool eval) =>
        TinyTraining.Session(_output, $"epochs: {epochs}, update_freq: {updateFreq}, eval_during_train: {(eval ? "True" : "False")}");

    [Test]
    public void Every_step_is_split_into_reader_forward_backward_and_optimizer_parts_that_sum_to_at_most_its_total()
    {
        var recorder = new Recorder();

        new Trainer(Session(epochs: 2, updateFreq: 1, eval: false), recorder).Run();

        var steps = recorder.Iterations;
        Assert.That(steps.Select(i => (i.Phase, i.Epoch, i.Iteration)),
            Is.EqualTo(Enumerable.Range(0, 2 * Batches).Select(k => (RunPhase.Train, 1 + k / Batches, k % Batches))));
        foreach (var step in steps)
        {
            var t = step.Timing;
            Assert.That(new[] { t.Reader, t.Forward, t.Backward, t.Optimizer }, Has.All.GreaterThanOrEqualTo(0L));
            Assert.That(t.Forward, Is.GreaterThan(0L), "forward is timed");
            Assert.That(t.Backward, Is.GreaterThan(0L), "backward is timed");
            Assert.That(t.Optimizer, Is.GreaterThan(0L), "the optimizer steps every iteration with update_freq 1");
            Assert.That(t.Reader + t.Forward + t.Backward + t.Optimizer, Is.LessThanOrEqualTo(t.Total));
            Assert.That(t.Overhead, Is.EqualTo(t.Total - t.Reader - t.Forward - t.Backward - t.Optimizer).And.GreaterThanOrEqualTo(0L));
            Assert.That(step.BatchSize, Is.EqualTo(8));
            Assert.That(step.Loss, Is.Not.Null.And.GreaterThan(0.0));
            Assert.That(step.SamplesPerSecond, Is.GreaterThan(0.0));
        }
        Assert.That(recorder.Started, Is.EqualTo(new[] { new EpochStarted(RunPhase.Train, 1, 2, Batches), new EpochStarted(RunPhase.Train, 2, 2, Batches) }));
        Assert.That(recorder.Finished.Select(f => f.Epoch), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(recorder.Finished[1].Averages.Keys, Is.SupersetOf(new[] { "CELoss", "loss", "top1", "top2" }));
    }

    [Test]
    public void With_update_freq_2_only_every_second_step_has_optimizer_time()
    {
        var recorder = new Recorder();

        new Trainer(Session(epochs: 1, updateFreq: 2, eval: false), recorder).Run();

        Assert.That(recorder.Iterations.Select(i => i.Timing.Optimizer > 0), Is.EqualTo(new[] { false, true, false, true }));
    }

    [Test]
    public void Eval_during_training_reports_its_own_epoch_with_forward_time_only()
    {
        var recorder = new Recorder();

        new Trainer(Session(epochs: 1, updateFreq: 1, eval: true), recorder).Run();

        var eval = recorder.Iterations.Where(i => i.Phase == RunPhase.Eval).ToList();
        Assert.That(eval.Select(i => i.Iteration), Is.EqualTo(Enumerable.Range(0, Batches)));
        Assert.That(eval.Select(i => (i.Timing.Forward > 0, i.Timing.Backward, i.Timing.Optimizer)), Has.All.EqualTo((true, 0L, 0L)));
        Assert.That(eval.Select(i => i.Timing.Overhead), Has.All.GreaterThanOrEqualTo(0L));
        Assert.That(recorder.Started.Last(), Is.EqualTo(new EpochStarted(RunPhase.Eval, 1, 0, Batches)));
        Assert.That(recorder.Finished.Last().Phase, Is.EqualTo(RunPhase.Eval));
        Assert.That(recorder.Finished.Last().Averages, Contains.Key("top1"));
    }

    [Test]
    public void TrainEpoch_runs_the_real_step_on_any_batch_source_for_the_iterations_asked()
    {
        var recorder = new Recorder();
        var trainer = new Trainer(Session(epochs: 1, updateFreq: 1, eval: false), recorder);
        using var run = trainer.Prepare();
        using var memory = InMemoryBatchSource.Random([2, 3, 12, 12], softLabels: false, ClassNum, batchCount: 10, seed: 1);

        trainer.TrainEpoch(run, 1, memory, iterations: 6);

        Assert.That(recorder.Iterations.Select(i => (i.Iteration, i.Iterations, i.BatchSize)),
            Is.EqualTo(Enumerable.Range(0, 6).Select(k => (k, 6, 2))));
        Assert.That(run.Schedule.LastStep, Is.EqualTo(6), "each step moved the LR schedule");
    }
}
