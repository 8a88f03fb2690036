using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
using Ppcls.Core.Logging;
using Ppcls.Core.Loss;
using Ppcls.Core.Metric;
using Ppcls.Core.Models;
using Ppcls.Core.Native;
using Ppcls.Core.Reporting;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>
/// What a finished training run reached; <paramref name="History"/> has every epoch, those before a
/// resume included. <paramref name="MetricName"/> names what <paramref name="BestMetric"/> measures
/// (the primary eval metric: top1, recall1, ..., or loss without a metric); null before any eval.
/// </summary>
public sealed record TrainingResult(int Epochs, double? BestMetric, int BestEpoch, string OutputDir, bool StoppedEarly,
    IReadOnlyList<EpochRecord> History, string? MetricName = "top1");

/// <summary>
/// The training loop of `ppcls train`, with PaddleClas's semantics: the LR schedule steps
/// per iteration (or per epoch), `update_freq` accumulates gradients, EMA follows each
/// optimizer step, eval runs every `eval_interval` epochs, and `latest`, `best_model` and
/// `epoch_N` checkpoints are written in `&lt;output_dir&gt;/&lt;Arch.name&gt;/`, each with the per-epoch
/// history (<see cref="EpochRecord"/>). With EMA, the model and its EMA are both evaluated and
/// their bests tracked apart (`best metric`, `best metric ema`); `best_model` is saved when the
/// better of the two is at least as good as every earlier eval (ties save, as PaddleClas's `>=`).
/// With `Global.use_tensorboard` the logged train values and LR (per print step) and eval averages
/// (per eval) go to TensorBoard. Every step runs in its own dispose scope. Each epoch reseeds
/// torch from (seed, epoch), so a resumed run draws the same dropout masks as an uninterrupted
/// one. Under mpirun every rank runs this loop on its shard of each batch (<see cref="DataShard"/>):
/// the weights start from rank 0's, gradients are averaged over the ranks before each optimizer
/// step, BN statistics stay per rank during an epoch and are averaged at its end, eval metrics
/// cover the whole eval set, and only rank 0 writes checkpoints and TensorBoard files.
/// </summary>
public sealed class Trainer
{
    readonly TrainingSession _s;
    readonly GlobalConfig _global;
    readonly ITrainingObserver? _observer;
    readonly ICommunicator _world;

    /// <param name="observer">Told of every epoch and iteration (train and eval), with each step's timing; optional.</param>
    public Trainer(TrainingSession session, ITrainingObserver? observer = null)
    {
        _s = session;
        _global = session.Config.Global;
        _observer = observer;
        _world = session.Communicator ?? SingleProcess.Instance;
    }

    /// <summary>`&lt;Global.output_dir&gt;/&lt;Arch.name&gt;`: checkpoints, logs and reports.</summary>
    public static string OutputDirOf(PpclsConfig config) => Path.Combine(config.Global.OutputDir, config.Arch.Name);

    string OutputDir => OutputDirOf(_s.Config);

    /// <summary>
    /// Builds everything (loaders with their list files, losses, metrics, schedule, optimizer,
    /// EMA, weights to resume or start from), then trains, or with <paramref name="checkOnly"/>
    /// stops there: no image has been read by then.
    /// </summary>
    public TrainingResult Run(bool checkOnly = false)
    {
        using var run = Prepare(checkOnly);
        var state = run.Start;
        if (checkOnly)
        {
            PpclsLog.Info($"check passed: loaders, losses, metrics, LR schedule ({run.Schedule.Name}) and optimizer ({run.Optimizer.Name}) are valid" +
                (run.Evaluator is RetrievalEvaluator retrieval ? $"; eval: {retrieval.SampleCount} gallery and query images"
                    : run.EvalLoader is null ? "" : $"; eval: {run.EvalLoader.SampleCount} images"));
            return new TrainingResult(state.Epoch, state.BestMetric, state.BestEpoch, OutputDir, StoppedEarly: false, state.History ?? []);
        }
        var model = _s.Model;
        using var board = _global.UseTensorboard && _world.Rank == 0 ? TensorBoardWriter.Create(Path.Combine(OutputDir, "tensorboard")) : null;
        if (board is not null) PpclsLog.Info($"TensorBoard scalars: {board.FilePath} (view with: tensorboard --logdir {Path.GetFullPath(OutputDir)})");
        if (state.Epoch == 0) TeacherCheck.Run(model, run.EvalLoader, _s.Config.Arch.ClassNum, _s.Placement);
        var history = new List<EpochRecord>(state.History ?? []);
        bool stoppedEarly = false;
        string? metricName = "top1";
        EvalResult? lastResult = null;
        for (int epoch = state.Epoch + 1; epoch <= _global.Epochs; epoch++)
        {
            manual_seed(EpochSeed(run.Seed, epoch) + _world.Rank); // ranks draw different dropout masks
            var (trainAverages, lastLr) = TrainEpoch(run, epoch, run.TrainLoader, run.ItersPerEpoch, board);
            run.Schedule.OnEpochEnd();
            if (_world.Size > 1)
            {
                ModuleSync.AverageBuffers(_world, model);
                if (run.Ema is { } ema) ModuleSync.AverageBuffers(_world, ema.Module);
            }
            state = state with { Epoch = epoch, GlobalStep = run.Schedule.LastStep };
            var record = new EpochRecord(epoch, trainAverages.GetValueOrDefault(CombinedLoss.TotalKey, double.NaN), lastLr);
            bool evaluate = run.Evaluator is not null && epoch % _global.EvalInterval == 0 && epoch > _global.StartEvalEpoch;
            bool saveBest = false;
            if (evaluate)
            {
                var result = run.Evaluator!.Run(model, epoch);
                board?.AddScalars(result.Values.Select(kv => KeyValuePair.Create("eval/" + kv.Key, kv.Value)), epoch);
                var emaResult = run.Ema is { } ema ? run.Evaluator.Run(ema.Module, epoch) : null;
                if (emaResult is not null) board?.AddScalars(emaResult.Values.Select(kv => KeyValuePair.Create("eval_ema/" + kv.Key, kv.Value)), epoch);
                (metricName, lastResult) = (result.MetricName, result);
                record = record with
                {
                    EvalLoss = result.Values.TryGetValue(CombinedLoss.TotalKey, out var lossValue) ? lossValue : null,
                    EvalTop1 = result.Values.TryGetValue("top1", out var top1Value) ? top1Value : null,
                };
                (state, saveBest) = Track(state, epoch, result, emaResult);
            }
            // Every checkpoint of this epoch, best_model included, carries the history up to it.
            history.Add(record);
            state = state with { History = history.ToArray() };
            if (saveBest) Save("best_model", run, state);
            if (evaluate && _global.EarlyStopPatience is { } patience && state.EvalsWithoutImprovement >= patience)
            {
                PpclsLog.Info($"early stop: {patience} evaluation(s) without a better {metricName} (best {state.BestMetric:F5} at epoch {state.BestEpoch})");
                stoppedEarly = true;
            }
            if (epoch % _global.SaveInterval == 0) Save($"epoch_{epoch}", run, state);
            Save("latest", run, state);
            if (stoppedEarly) break;
        }
        // What best_model holds: the better of the model's and the EMA's bests.
        double? best = lastResult?.Best(state.BestMetric, state.BestMetricEma) ?? state.BestMetric;
        return new TrainingResult(state.Epoch, best, state.BestEpoch, OutputDir, stoppedEarly, history, metricName);
    }

    /// <summary>
    /// PaddleClas's bookkeeping after an eval: the model's best (`>=`) and the EMA's best (`>`) are
    /// logged; `best_model` is due when the better result of this epoch is at least as good as both bests before it.
    /// </summary>
    static (TrainingState State, bool SaveBest) Track(TrainingState state, int epoch, EvalResult result, EvalResult? emaResult)
    {
        var bestBefore = result.Best(state.BestMetric, state.BestMetricEma);
        var now = result.Best(result.Metric, emaResult?.Metric);
        if (result.AtLeastAsGood(result.Metric, state.BestMetric)) state = state with { BestMetric = result.Metric };
        PpclsLog.Info(TrainLog.BestMetric(epoch, state.BestMetric));
        if (emaResult is not null)
        {
            if (result.Better(emaResult.Metric, state.BestMetricEma)) state = state with { BestMetricEma = emaResult.Metric };
            PpclsLog.Info(TrainLog.BestMetricEma(epoch, state.BestMetricEma));
        }
        bool saveBest = result.AtLeastAsGood(now, bestBefore);
        state = saveBest
            ? state with { BestEpoch = epoch, EvalsWithoutImprovement = 0 }
            : state with { EvalsWithoutImprovement = state.EvalsWithoutImprovement + 1 };
        return (state, saveBest);
    }

    /// <summary>
    /// Builds and validates every piece of a run from the config (<see cref="TrainingRunBuilder"/>)
    /// and loads the weights to resume or start from, without reading an image. <see cref="Run"/>
    /// starts here; a benchmark can too, then drive <see cref="TrainEpoch"/> itself.
    /// </summary>
    public TrainingRun Prepare(bool checkOnly = false) => new TrainingRunBuilder(_s, _observer, _world, checkOnly).Build();

    /// <summary>A fixed mix of (seed, epoch): unlike HashCode.Combine it is the same in every process.</summary>
    static long EpochSeed(long seed, int epoch)
    {
        ulong z = (ulong)seed + 0x9E3779B97F4A7C15UL * (ulong)(epoch + 1); // SplitMix64 step
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (long)((z ^ (z >> 31)) >> 1);
    }

    /// <summary>
    /// One training epoch: at most <paramref name="iterations"/> steps over the batches of
    /// <paramref name="loader"/> (the run's own <see cref="TrainingRun.TrainLoader"/> in
    /// <see cref="Run"/>), with the LR schedule, gradient accumulation, EMA, metrics and
    /// PaddleClas's `[Train]` lines (also to <paramref name="board"/>). The observer gets each
    /// step's timing. Returns the epoch's averages and the LR of its last iteration.
    /// </summary>
    public (IReadOnlyDictionary<string, double> Averages, double LastLr) TrainEpoch(TrainingRun run, int epoch, IBatchSource loader, int iterations,
        TensorBoardWriter? board = null)
    {
        var model = _s.Model;
        var (loss, metrics, optimizer, schedule, ema) = (run.TrainLoss, run.TrainMetrics, run.Optimizer, run.Schedule, run.Ema);
        int updateFreq = run.UpdateFreq;
        int iters = iterations;
        model.train();
        run.Freeze?.KeepStatistics(model);
        var window = new AverageMeterSet();
        var epochAverages = new AverageMeterSet();
        double lastLr = schedule.Current;
        int iter = 0;
        optimizer.SetLearningRate(schedule.Current);
        _observer?.OnEpochStarted(new EpochStarted(RunPhase.Train, epoch, _global.Epochs, iters));
        var meter = new StepMeter();
        foreach (var batch in loader.Epoch(epoch, next: epoch < _global.Epochs ? epoch + 1 : null))
        {
            if (iter >= iters) { batch.Dispose(); break; } // the tail that update_freq cannot use
            meter.BatchReady();
            double lr = lastLr = schedule.Current;
            int count = batch.Count;
            float totalValue;
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            using (var owned = batch)
            using (var scope = NewDisposeScope())
            {
                var images = _s.Placement.Images(batch.Images);
                var labels = batch.Labels.to(_s.Placement.Device);
                meter.BeginPart();
                run.GradientSync?.BeginStep(reduceAfterBackward: (iter + 1) % updateFreq == 0);
                var output = ModelOutput.Run(model, images, labels);
                var losses = loss.Compute(output, labels);
                meter.EndForward();
                var total = losses[CombinedLoss.TotalKey];
                totalValue = total.item<float>();
                if (!float.IsFinite(totalValue)) throw NonFinite(epoch, iter, totalValue);
                meter.BeginPart();
                (updateFreq == 1 ? total : total / updateFreq).backward();
                meter.EndBackward();
                if ((iter + 1) % updateFreq == 0)
                {
                    meter.BeginPart();
                    run.GradientSync?.Run();
                    optimizer.Step();
                    optimizer.ZeroGrad();
                    schedule.OnIterationEnd();
                    optimizer.SetLearningRate(schedule.Current);
                    ema?.Update();
                    meter.EndOptimizer();
                }
                foreach (var (name, value) in losses) values[name] = name == CombinedLoss.TotalKey ? totalValue : value.item<float>();
                if (metrics is not null && run.TrainLabelled)
                    foreach (var (name, value) in metrics.Compute(output, labels, batch.SoftLabels)) values[name] = value;
            }
            window.Update(values, count);
            epochAverages.Update(values, count);
            meter.StepDone();
            var eta = meter.Eta((long)(_global.Epochs - epoch) * iters + (iters - iter - 1));
            if (iter % _global.PrintBatchStep == 0 || iter == iters - 1)
            {
                var (batchCost, readerCost) = meter.TakeWindow();
                PpclsLog.Step(TrainLog.TrainStep(epoch, _global.Epochs, iter, iters, schedule.Name, lr, window.Averages, batchCost, readerCost, count, eta));
                board?.AddScalars(window.Averages.Select(kv => KeyValuePair.Create("train/" + kv.Key, kv.Value))
                    .Append(KeyValuePair.Create("train/lr", lr)), (long)(epoch - 1) * iters + iter);
                window.Reset();
            }
            var timing = meter.EndStep();
            _observer?.OnIterationFinished(new IterationFinished(RunPhase.Train, epoch, iter, iters, count, totalValue,
                meter.SamplesPerSecond(count), eta, timing));
            iter++;
        }
        MallocTuning.ReleaseFreeMemory(); // what the epoch freed goes back to the OS; resident_memory is then what is live
        PpclsLog.Info(TrainLog.TrainAverage(epoch, _global.Epochs, epochAverages.Averages) +
            $", resident_memory: {ProcessMemory.ResidentBytes() / 1048576.0:F1} MiB");
        var averages = epochAverages.Averages.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        _observer?.OnEpochFinished(new EpochFinished(RunPhase.Train, epoch, averages));
        return (averages, lastLr);

        PpclsUserException NonFinite(int e, int i, float value)
        {
            // Checkpoints are written at every epoch's end, so the last good one is the previous epoch's latest.
            string latest = Path.Combine(OutputDir, "latest");
            string lastGood = e > 1 && File.Exists(CheckpointStore.StatePath(latest)) ? latest + $" (epoch {e - 1})" : "none yet";
            return new PpclsUserException(
                $"the training loss became {value} at epoch {e}, iteration {i}; the last good checkpoint is {lastGood}. " +
                "Lower Optimizer.lr.learning_rate or check the data, then resume with -o Global.checkpoints=<that checkpoint>");
        }
    }

    void Save(string name, TrainingRun run, TrainingState state)
    {
        if (_world.Rank != 0) return;
        string prefix = Path.Combine(OutputDir, name);
        CheckpointStore.Save(prefix, _s.Model, run.Optimizer.Inner as OptimizerHelper, run.Ema?.Module, state, _global.SaveFormat == SaveFormat.Pdparams);
        PpclsLog.Info($"Already save model in {prefix}");
    }
}
