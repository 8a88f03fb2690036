using System.Diagnostics;
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
public sealed class Evaluator(IBatchSource loader, CombinedLoss? loss, MetricSet? metrics, Device device, int printBatchStep,
    ITrainingObserver? observer = null, ICommunicator? communicator = null) : IEvaluator
{
    IReadOnlyDictionary<string, double> IEvaluator.Run(nn.Module<Tensor, Tensor> model, int epoch) => Run(model, epoch);

    /// <summary>
    /// Evaluates <paramref name="model"/>; returns the averages (CELoss, loss, top1, top5, ...).
    /// With <paramref name="confusion"/>, also counts each sample's (true, arg-max) pair there
    /// (batches with soft labels are not counted).
    /// </summary>
    public IReadOnlyDictionary<string, double> Run(nn.Module<Tensor, Tensor> model, int epoch, ConfusionMatrix? confusion = null)
    {
        bool wasTraining = model.training;
        model.eval();
        var averages = new AverageMeterSet();
        var clock = Stopwatch.StartNew();
        double readerSeconds = 0, batchSeconds = 0, meanBatchSeconds = 0;
        int iter = 0, iters = loader.BatchCount;
        observer?.OnEpochStarted(new EpochStarted(RunPhase.Eval, epoch, 0, iters));
        foreach (var metric in metrics?.DatasetMetrics ?? []) metric.Reset();
        try
        {
            using var noGrad = no_grad();
            var reader = Stopwatch.StartNew();
            foreach (var batch in loader.Epoch(epoch))
            {
                long readerTicks = reader.ElapsedTicks;
                readerSeconds += reader.Elapsed.TotalSeconds;
                int count = batch.Count;
                long forwardTicks;
                var values = new Dictionary<string, double>(StringComparer.Ordinal);
                using (var owned = batch)
                using (var scope = NewDisposeScope())
                {
                    var images = batch.Images.to(device);
                    var labels = batch.Labels.to(device);
                    long mark = reader.ElapsedTicks;
                    var output = ModelOutput.Run(model, images);
                    var logits = output.Primary;
                    var losses = loss?.Compute(output, labels);
                    forwardTicks = reader.ElapsedTicks - mark;
                    if (losses is not null)
                        foreach (var (name, value) in losses) values[name] = value.item<float>();
                    if (metrics is not null && !batch.SoftLabels)
                        foreach (var (name, value) in metrics.Compute(output, labels)) values[name] = value;
                    if (confusion is not null && !batch.SoftLabels) confusion.Add(logits, labels);
                    foreach (var metric in metrics?.DatasetMetrics ?? []) metric.Add(output, labels);
                }
                averages.Update(values, count);
                double seconds = reader.Elapsed.TotalSeconds;
                batchSeconds += seconds;
                meanBatchSeconds = meanBatchSeconds == 0 ? seconds : 0.9 * meanBatchSeconds + 0.1 * seconds;
                if (printBatchStep > 0 && iter % printBatchStep == 0)
                {
                    int steps = iter == 0 ? 1 : printBatchStep;
                    PpclsLog.Step(TrainLog.EvalStep(epoch, iter, iters, values, batchSeconds / steps, readerSeconds / steps, count));
                    batchSeconds = readerSeconds = 0;
                }
                var timing = new StepTiming(readerTicks, forwardTicks, 0, 0, reader.ElapsedTicks);
                reader.Restart();
                observer?.OnIterationFinished(new IterationFinished(RunPhase.Eval, epoch, iter, iters, count,
                    values.TryGetValue(CombinedLoss.TotalKey, out var total) ? total : null,
                    meanBatchSeconds > 0 ? count / meanBatchSeconds : 0, TimeSpan.FromSeconds((iters - iter - 1) * meanBatchSeconds), timing));
                iter++;
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        var reduced = communicator is { Size: > 1 } world ? OverRanks(averages, world) : averages.Averages;
        var result = reduced.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (var metric in metrics?.DatasetMetrics ?? [])
            foreach (var (name, value) in metric.Result(communicator ?? SingleProcess.Instance)) result[name] = value;
        PpclsLog.Info(TrainLog.EvalAverage(epoch, result));
        observer?.OnEpochFinished(new EpochFinished(RunPhase.Eval, epoch, result));
        return result;
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
