using Ppcls.Core.Checkpoint;
using Ppcls.Core.Engine;

namespace Ppcls.Core.Tests.Engine;

/// <summary>Which eval saves `best_model`: the primary metric with its direction, ties included, and the EMA beside the model.</summary>
public sealed class BestModelTests
{
    string _output = null!;

    [SetUp]
    public void MakeOutput() => _output = Directory.CreateTempSubdirectory("ppcls-best-model-").FullName;

    [TearDown]
    public void RemoveOutput() => Directory.Delete(_output, recursive: true);

    sealed class EvalRecorder : ITrainingObserver
    {
        public List<EpochFinished> Evals { get; } = [];
        public void OnEpochStarted(EpochStarted epoch) { }
        public void OnIterationFinished(IterationFinished iteration) { }
        public void OnEpochFinished(EpochFinished epoch) { if (epoch.Phase == RunPhase.Eval) Evals.Add(epoch); }
    }

    TrainingState BestState() => CheckpointStore.Load(Path.Combine(_output, "Tiny", "best_model"), "test").State;

    [Test]
    public void A_run_whose_only_eval_value_is_a_loss_above_one_writes_best_model_at_its_first_eval()
    {
        var recorder = new EvalRecorder();
        // LR 0 and no BatchNorm: the weights never change; 10 classes from near-zero logits give a loss near ln 10.
        var session = TinyTraining.Session(_output, "epochs: 1", evalMetric: "[]", learningRate: 0.0, batchNorm: false, classNum: 10);

        var result = new Trainer(session, recorder).Run();

        double loss = recorder.Evals.Single().Averages["loss"];
        Assert.That(loss, Is.GreaterThan(1.0), "the case a best of -1 (the old start) never beat as -loss");
        Assert.That((result.MetricName, result.BestEpoch), Is.EqualTo(("loss", 1)));
        Assert.That(result.BestMetric, Is.EqualTo(loss).Within(1e-12), "the loss itself, lower being better");
        Assert.That(BestState().BestMetric, Is.EqualTo(loss).Within(1e-12));
    }

    [Test]
    public void An_eval_that_ties_the_best_saves_best_model_again_as_PaddleClas_does()
    {
        var session = TinyTraining.Session(_output, "epochs: 3", learningRate: 0.0, batchNorm: false);

        var result = new Trainer(session).Run();

        Assert.That(result.MetricName, Is.EqualTo("top1"));
        Assert.That(result.BestEpoch, Is.EqualTo(3), "three equal evals: the last one saved best_model");
        Assert.That(BestState().Epoch, Is.EqualTo(3));
    }

    [Test]
    public void With_EMA_the_model_and_its_EMA_are_both_evaluated_tracked_and_saved()
    {
        var recorder = new EvalRecorder();
        var session = TinyTraining.Session(_output, "epochs: 2", learningRate: 0.05, extra: "EMA: {decay: 0.5}");

        var result = new Trainer(session, recorder).Run();

        Assert.That(recorder.Evals.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 1, 2, 2 }), "each eval runs the model, then its EMA");
        Assert.That(recorder.Evals[0].Averages["loss"], Is.Not.EqualTo(recorder.Evals[1].Averages["loss"]), "the EMA is another set of weights");
        var state = BestState();
        double modelBest = recorder.Evals.Where((_, i) => i % 2 == 0).Max(e => e.Averages["top1"]);
        double emaBest = recorder.Evals.Where((_, i) => i % 2 == 1).Max(e => e.Averages["top1"]);
        Assert.That((state.BestMetric, state.BestMetricEma), Is.EqualTo(((double?)modelBest, (double?)emaBest)));
        Assert.That(result.BestMetric, Is.EqualTo(Math.Max(modelBest, emaBest)), "what best_model holds: the better of the two");
        Assert.That(File.Exists(CheckpointStore.EmaPath(Path.Combine(_output, "Tiny", "best_model"))), Is.True, "best_model keeps the EMA weights beside the model's");
    }

    [Test]
    public void The_primary_metric_is_the_first_listed_metric_else_the_loss_with_lower_better()
    {
        var values = new Dictionary<string, double> { ["CELoss"] = 0.7, ["loss"] = 0.7, ["top1"] = 0.5, ["top5"] = 0.9 };
        var byMetric = EvalResult.Of(values, ["top1", "top5"]);
        var byLoss = EvalResult.Of(values, []);

        Assert.That((byMetric.MetricName, byMetric.Metric, byMetric.Direction), Is.EqualTo(("top1", (double?)0.5, MetricDirection.HigherIsBetter)));
        Assert.That((byLoss.MetricName, byLoss.Metric, byLoss.Direction), Is.EqualTo(("loss", (double?)0.7, MetricDirection.LowerIsBetter)));
        Assert.That(byLoss.AtLeastAsGood(0.6, 0.7) && byLoss.AtLeastAsGood(0.7, 0.7) && !byLoss.AtLeastAsGood(0.8, 0.7), Is.True);
        Assert.That(byMetric.AtLeastAsGood(0.6, 0.5) && byMetric.AtLeastAsGood(0.5, 0.5) && !byMetric.AtLeastAsGood(0.4, 0.5), Is.True);
        Assert.That(byLoss.AtLeastAsGood(9.0, null), Is.True, "the first eval is always the best so far");
        Assert.That((byLoss.Best(0.6, 0.4), byMetric.Best(0.6, 0.4)), Is.EqualTo(((double?)0.4, (double?)0.6)));
    }
}
