using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
using Ppcls.Core.Logging;
using Ppcls.Core.Loss;
using Ppcls.Core.Metric;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>
/// One pass over the eval loader in eval mode and under no-grad: losses and metrics averaged
/// over samples (weighted by batch size), logged in PaddleClas's `[Eval]` shapes. An optional
/// observer is told of the epoch and each iteration (its timing has only reader and forward parts).
/// With a communicator of several ranks, each rank evaluates its shard of the eval set and the
/// sums and counts are added over the ranks, so the averages cover every image exactly once;
/// whole-set metrics (Recallk, mAP, TprAtFpr) gather every rank's samples.
/// </summary>
public sealed class Evaluator(IBatchSource loader, CombinedLoss? loss, MetricSet? metrics, Placement placement, int printBatchStep,
    ITrainingObserver? observer = null, ICommunicator? communicator = null) : IEvaluator
{
    EvalResult IEvaluator.Run(nn.Module<Tensor, Tensor> model, int epoch) => Run(model, epoch);

    /// <summary>
    /// Evaluates <paramref name="model"/>; returns the averages (CELoss, loss, top1, top5, ...) and
    /// the primary metric. With <paramref name="confusion"/>, also counts each sample's (true,
    /// arg-max) pair there (batches with soft labels are not counted).
    /// </summary>
    public EvalResult Run(nn.Module<Tensor, Tensor> model, int epoch, ConfusionMatrix? confusion = null)
    {
        bool wasTraining = model.training;
        model.eval();
        var averages = new AverageMeterSet();
        var metricNames = new List<string>();
        int iter = 0, iters = loader.BatchCount;
        observer?.OnEpochStarted(new EpochStarted(RunPhase.Eval, epoch, 0, iters));
        // ATTRMetric: PaddleClas logs neither losses nor metrics on the iteration lines, and only its evalres on [Avg].
        bool alone = metrics?.DatasetMetrics.Any(m => m.AverageTextAlone) == true;
        foreach (var metric in metrics?.DatasetMetrics ?? []) metric.Reset();
        try
        {
            using var noGrad = no_grad();
            var meter = new StepMeter();
            foreach (var batch in loader.Epoch(epoch))
            {
                meter.BatchReady();
                int count = batch.Count;
                var values = new Dictionary<string, double>(StringComparer.Ordinal);
                using (var owned = batch)
                using (var scope = NewDisposeScope())
                {
                    var images = placement.Images(batch.Images);
                    var labels = batch.Labels.to(placement.Device);
                    meter.BeginPart();
                    var output = ModelOutput.Run(model, images);
                    var losses = loss?.Compute(output, labels);
                    meter.EndForward();
                    if (losses is not null)
                        foreach (var (name, value) in losses) values[name] = value.item<float>();
                    if (metrics is not null)
                        foreach (var (name, value) in metrics.Compute(output, labels, batch.SoftLabels))
                        {
                            values[name] = value;
                            if (!metricNames.Contains(name)) metricNames.Add(name);
                        }
                    if (confusion is not null && !batch.SoftLabels) confusion.Add(output.Primary, labels);
                    foreach (var metric in metrics?.DatasetMetrics ?? []) metric.Add(output, labels);
                }
                averages.Update(values, count);
                meter.StepDone();
                if (printBatchStep > 0 && iter % printBatchStep == 0)
                {
                    var (batchCost, readerCost) = meter.TakeWindow();
                    PpclsLog.Step(TrainLog.EvalStep(epoch, iter, iters, alone ? [] : values, batchCost, readerCost, count));
                }
                var timing = meter.EndStep();
                observer?.OnIterationFinished(new IterationFinished(RunPhase.Eval, epoch, iter, iters, count,
                    values.TryGetValue(CombinedLoss.TotalKey, out var total) ? total : null,
                    meter.SamplesPerSecond(count), meter.Eta(iters - iter - 1), timing));
                iter++;
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        var reduced = communicator is { Size: > 1 } world ? OverRanks(averages, world) : averages.Averages;
        var result = reduced.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var texts = new List<string>();
        foreach (var metric in metrics?.DatasetMetrics ?? [])
        {
            var own = metric.Result(communicator ?? SingleProcess.Instance);
            foreach (var (name, value) in own)
            {
                result[name] = value;
                metricNames.Add(name);
            }
            texts.Add(metric.AverageText(own) ?? TrainLog.Values(own));
        }
        PpclsLog.Info(TrainLog.EvalAverage(epoch, alone ? [] : reduced, texts));
        observer?.OnEpochFinished(new EpochFinished(RunPhase.Eval, epoch, result));
        return EvalResult.Of(result, metricNames, metrics?.LowerIsBetter);
    }

    /// <summary>Every rank's meters added up: sum of value x batch size over sum of batch sizes (every rank has the same names, in the same order).</summary>
    static IReadOnlyList<KeyValuePair<string, double>> OverRanks(AverageMeterSet averages, ICommunicator world)
    {
        var names = averages.Names;
        var totals = new double[2 * names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            totals[i] = averages[names[i]].Sum;
            totals[names.Count + i] = averages[names[i]].Count;
        }
        world.AllReduceSum(totals);
        return [.. names.Select((name, i) => KeyValuePair.Create(name, totals[names.Count + i] == 0 ? 0 : totals[i] / totals[names.Count + i]))];
    }
}
