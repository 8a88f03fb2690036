using System.Diagnostics;
using Ppcls.Core.Data;
using Ppcls.Core.Logging;
using Ppcls.Core.Loss;
using Ppcls.Core.Metric;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>
/// One pass over the eval loader in eval mode and under no-grad: losses and metrics averaged
/// over samples (weighted by batch size), logged in PaddleClas's `[Eval]` shapes.
/// </summary>
public sealed class Evaluator(IBatchSource loader, CombinedLoss? loss, MetricSet? metrics, Device device, int printBatchStep)
{
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
        double readerSeconds = 0, batchSeconds = 0;
        int iter = 0;
        try
        {
            using var noGrad = no_grad();
            var reader = Stopwatch.StartNew();
            foreach (var batch in loader.Epoch(epoch))
            {
                readerSeconds += reader.Elapsed.TotalSeconds;
                using var owned = batch;
                int count = batch.Count;
                using var scope = NewDisposeScope();
                var images = batch.Images.to(device);
                var labels = batch.Labels.to(device);
                var logits = model.call(images);
                var values = new Dictionary<string, double>(StringComparer.Ordinal);
                if (loss is not null)
                    foreach (var (name, value) in loss.Compute(logits, labels)) values[name] = value.item<float>();
                if (metrics is not null && !batch.SoftLabels)
                    foreach (var (name, value) in metrics.Compute(logits, labels)) values[name] = value;
                if (confusion is not null && !batch.SoftLabels) confusion.Add(logits, labels);
                averages.Update(values, count);
                batchSeconds += reader.Elapsed.TotalSeconds;
                if (printBatchStep > 0 && iter % printBatchStep == 0)
                {
                    int steps = iter == 0 ? 1 : printBatchStep;
                    PpclsLog.Info(TrainLog.EvalStep(epoch, iter, loader.BatchCount, values, batchSeconds / steps, readerSeconds / steps, count));
                    batchSeconds = readerSeconds = 0;
                }
                iter++;
                reader.Restart();
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        var result = averages.Averages.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        PpclsLog.Info(TrainLog.EvalAverage(epoch, averages.Averages));
        return result;
    }
}
