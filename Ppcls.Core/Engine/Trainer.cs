using System.Diagnostics;
using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Core.Logging;
using Ppcls.Core.Loss;
using Ppcls.Core.Metric;
using Ppcls.Core.Models;
using Ppcls.Core.Native;
using Ppcls.Core.Optim;
using Ppcls.Core.Reporting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>What a finished training run reached; <paramref name="History"/> has every epoch, those before a resume included.</summary>
public sealed record TrainingResult(int Epochs, double BestMetric, int BestEpoch, string OutputDir, bool StoppedEarly,
    IReadOnlyList<EpochRecord> History);

/// <summary>
/// The training loop of `ppcls train`, with PaddleClas's semantics: the LR schedule steps
/// per iteration (or per epoch), `update_freq` accumulates gradients, EMA follows each
/// optimizer step, eval runs every `eval_interval` epochs, and `latest`, `best_model` and
/// `epoch_N` checkpoints are written in `&lt;output_dir&gt;/&lt;Arch.name&gt;/`, each with the per-epoch
/// history (<see cref="EpochRecord"/>); with `Global.use_tensorboard` the logged train values
/// and LR (per print step) and eval averages (per eval) go to TensorBoard. Every step runs in
/// its own dispose scope. Each epoch reseeds torch from (seed, epoch), so a resumed run draws
/// the same dropout masks as an uninterrupted one.
/// </summary>
public sealed class Trainer
{
    const string MetricKey = "top1";
    readonly TrainingSession _s;
    readonly GlobalConfig _global;

    public Trainer(TrainingSession session)
    {
        _s = session;
        _global = session.Config.Global;
    }

    string OutputDir => Path.Combine(_global.OutputDir, _s.Config.Arch.Name);

    /// <summary>
    /// Builds everything (loaders with their list files, losses, metrics, schedule, optimizer,
    /// EMA, weights to resume or start from), then trains, or with <paramref name="checkOnly"/>
    /// stops there: no image has been read by then.
    /// </summary>
    public TrainingResult Run(bool checkOnly = false)
    {
        var config = _s.Config;
        var loaders = config.DataLoader ?? throw new PpclsUserException("DataLoader: the config has no DataLoader section; add DataLoader.Train (and Eval)");
        var trainConfig = loaders.Train ?? throw new PpclsUserException("DataLoader.Train: missing; add the training loader to the config");
        var optimizerConfig = config.Optimizer ?? throw new PpclsUserException("Optimizer: missing; add e.g. Optimizer: {name: Momentum, momentum: 0.9, lr: {name: Cosine, learning_rate: 0.1}}");
        int classNum = config.Arch.ClassNum;
        long seed = _global.Seed ?? Random.Shared.NextInt64(int.MaxValue);

        // Everything is validated before the first image is read.
        using var trainLoader = _s.Data.Build(trainConfig, classNum, seed, PpclsLog.Info);
        using var evalLoader = loaders.Eval is { } e && _global.EvalDuringTrain ? _s.Data.Build(e, classNum, seed, PpclsLog.Info) : null;
        string labelsKey = trainConfig.Dataset.KeyPath(trainConfig.Dataset.Has("cls_label_path") ? "cls_label_path" : "image_root");
        if (trainLoader.LabelSummary?.FewClassesWarning(classNum, labelsKey) is { } fewClasses)
            PpclsLog.Warn(fewClasses);
        var trainLoss = LossFactory.Build(config.Loss.Train, PpclsLog.Info)
            ?? throw new PpclsUserException("Loss.Train: empty; add e.g. Loss: {Train: [{CELoss: {weight: 1.0}}]}");
        var evalLoss = LossFactory.Build(config.Loss.Eval, PpclsLog.Info);
        var trainMetrics = MetricFactory.Build(config.Metric.Train, PpclsLog.Info, PpclsLog.Warn);
        var evalMetrics = MetricFactory.Build(config.Metric.Eval, PpclsLog.Info, PpclsLog.Warn);

        int updateFreq = _global.UpdateFreq;
        if (trainLoader.BatchCount < updateFreq)
        {
            PpclsLog.Warn($"Global.update_freq ({updateFreq}) is more than the {trainLoader.BatchCount} batches per epoch; using 1");
            updateFreq = 1;
        }
        int itersPerEpoch = trainLoader.BatchCount / updateFreq * updateFreq;
        var schedule = LearningRateScheduleFactory.Build(optimizerConfig.Lr, _global.Epochs, itersPerEpoch / updateFreq, PpclsLog.Info);
        var model = _s.Model;
        using var optimizer = OptimizerFactory.Build(optimizerConfig, model.named_parameters().Select(p => (p.name, p.parameter)),
            model as ILearningRateMultipliers, schedule.Current, PpclsLog.Info);
        var ema = config.Ema is { } emaConfig ? new ModelEma(model, _s.BuildTwin().to(_s.Device), emaConfig.Decay) : null;
        var evaluator = evalLoader is null ? null : new Evaluator(evalLoader, evalLoss, evalMetrics, _s.Device, _global.PrintBatchStep);

        var state = new TrainingState(config.Arch.Name, classNum, 0, 0, -1, 0, 0);
        if (_global.Checkpoints is { } resumeFrom)
            state = Resume(resumeFrom, model, optimizer, ema, schedule);
        else
        {
            // PaddleClas loads Arch.pretrained (backbone weights) when the model is built, then Global.pretrained_model.
            if (config.Arch.PretrainedPath is { } archWeights) LoadPretrained(archWeights, "Arch.pretrained", model, ema);
            if (_global.PretrainedModel is { } pretrained) LoadPretrained(pretrained, "Global.pretrained_model", model, ema);
        }
        if (config.Arch.PretrainedFromHub)
            PpclsLog.Warn("Arch.pretrained is True: PaddleClas would download ImageNet weights, which Ppcls does not do; " +
                "set Arch.pretrained (or Global.pretrained_model) to a local weights file. Training starts from random weights.");

        PpclsLog.Info($"train: {trainLoader.SampleCount} images, {itersPerEpoch} iterations per epoch, {_global.Epochs} epochs, " +
            $"{optimizer.Groups.Count} parameter group(s), seed {seed}, output {Path.GetFullPath(OutputDir)}");
        if (checkOnly)
        {
            PpclsLog.Info($"check passed: loaders, losses, metrics, LR schedule ({schedule.Name}) and optimizer ({optimizer.Name}) are valid" +
                (evalLoader is null ? "" : $"; eval: {evalLoader.SampleCount} images"));
            return new TrainingResult(state.Epoch, state.BestMetric, state.BestEpoch, OutputDir, StoppedEarly: false, state.History ?? []);
        }
        using var board = _global.UseTensorboard ? TensorBoardWriter.Create(Path.Combine(OutputDir, "tensorboard")) : null;
        if (board is not null) PpclsLog.Info($"TensorBoard scalars: {board.FilePath} (view with: tensorboard --logdir {Path.GetFullPath(OutputDir)})");
        var history = new List<EpochRecord>(state.History ?? []);
        bool stoppedEarly = false;
        for (int epoch = state.Epoch + 1; epoch <= _global.Epochs; epoch++)
        {
            manual_seed(EpochSeed(seed, epoch));
            var (trainAverages, lastLr) = TrainEpoch(epoch, trainLoader, itersPerEpoch, updateFreq, trainLoss, trainMetrics, optimizer, schedule, ema, state, board);
            schedule.OnEpochEnd();
            state = state with { Epoch = epoch, GlobalStep = schedule.LastStep };
            var record = new EpochRecord(epoch, trainAverages.GetValueOrDefault(CombinedLoss.TotalKey, double.NaN), lastLr);
            bool evaluate = evaluator is not null && epoch % _global.EvalInterval == 0 && epoch > _global.StartEvalEpoch;
            var metrics = evaluate ? evaluator!.Run(ema?.Module ?? model, epoch) : null;
            if (metrics is not null)
            {
                board?.AddScalars(metrics.Select(kv => KeyValuePair.Create("eval/" + kv.Key, kv.Value)), epoch);
                record = record with
                {
                    EvalLoss = metrics.TryGetValue(CombinedLoss.TotalKey, out var lossValue) ? lossValue : null,
                    EvalTop1 = metrics.TryGetValue(MetricKey, out var top1Value) ? top1Value : null,
                };
            }
            // Every checkpoint of this epoch, best_model included, carries the history up to it.
            history.Add(record);
            state = state with { History = history.ToArray() };

            if (metrics is not null)
            {
                double metric = metrics.TryGetValue(MetricKey, out var top1) ? top1 : -metrics.GetValueOrDefault(CombinedLoss.TotalKey);
                if (metric > state.BestMetric)
                {
                    state = state with { BestMetric = metric, BestEpoch = epoch, EvalsWithoutImprovement = 0 };
                    Save("best_model", model, optimizer, ema, state);
                }
                else state = state with { EvalsWithoutImprovement = state.EvalsWithoutImprovement + 1 };
                PpclsLog.Info(TrainLog.BestMetric(epoch, state.BestMetric));
                if (_global.EarlyStopPatience is { } patience && state.EvalsWithoutImprovement >= patience)
                {
                    PpclsLog.Info($"early stop: {patience} evaluation(s) without a better {MetricKey} (best {state.BestMetric:F5} at epoch {state.BestEpoch})");
                    stoppedEarly = true;
                }
            }
            if (epoch % _global.SaveInterval == 0) Save($"epoch_{epoch}", model, optimizer, ema, state);
            Save("latest", model, optimizer, ema, state);
            if (stoppedEarly) break;
        }
        return new TrainingResult(state.Epoch, state.BestMetric, state.BestEpoch, OutputDir, stoppedEarly, history);
    }

    /// <summary>A fixed mix of (seed, epoch): unlike HashCode.Combine it is the same in every process.</summary>
    static long EpochSeed(long seed, int epoch)
    {
        ulong z = (ulong)seed + 0x9E3779B97F4A7C15UL * (ulong)(epoch + 1); // SplitMix64 step
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (long)((z ^ (z >> 31)) >> 1);
    }

    /// <summary>One epoch; returns the epoch's averages and the LR of its last iteration.</summary>
    (IReadOnlyDictionary<string, double> Averages, double LastLr) TrainEpoch(int epoch, IBatchSource loader, int iters, int updateFreq,
        CombinedLoss loss, MetricSet? metrics, TrainingOptimizer optimizer, LearningRateSchedule schedule, ModelEma? ema,
        TrainingState state, TensorBoardWriter? board)
    {
        var model = _s.Model;
        model.train();
        var window = new AverageMeterSet();
        var epochAverages = new AverageMeterSet();
        double batchSeconds = 0, readerSeconds = 0, meanBatchSeconds = 0, lastLr = schedule.Current;
        int iter = 0, windowSteps = 0;
        optimizer.SetLearningRate(schedule.Current);
        var reader = Stopwatch.StartNew();
        foreach (var batch in loader.Epoch(epoch))
        {
            if (iter >= iters) { batch.Dispose(); break; } // the tail that update_freq cannot use
            readerSeconds += reader.Elapsed.TotalSeconds;
            double lr = lastLr = schedule.Current;
            int count = batch.Count;
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            using (var owned = batch)
            using (var scope = NewDisposeScope())
            {
                var images = batch.Images.to(_s.Device);
                var labels = batch.Labels.to(_s.Device);
                var logits = model.call(images);
                var losses = loss.Compute(logits, labels);
                var total = losses[CombinedLoss.TotalKey];
                float totalValue = total.item<float>();
                if (!float.IsFinite(totalValue)) throw NonFinite(epoch, iter, totalValue);
                (updateFreq == 1 ? total : total / updateFreq).backward();
                if ((iter + 1) % updateFreq == 0)
                {
                    optimizer.Step();
                    optimizer.ZeroGrad();
                    schedule.OnIterationEnd();
                    optimizer.SetLearningRate(schedule.Current);
                    ema?.Update();
                }
                foreach (var (name, value) in losses) values[name] = name == CombinedLoss.TotalKey ? totalValue : value.item<float>();
                if (metrics is not null && !batch.SoftLabels)
                    foreach (var (name, value) in metrics.Compute(logits.detach(), labels)) values[name] = value;
            }
            window.Update(values, count);
            epochAverages.Update(values, count);
            double seconds = reader.Elapsed.TotalSeconds;
            batchSeconds += seconds;
            meanBatchSeconds = meanBatchSeconds == 0 ? seconds : 0.9 * meanBatchSeconds + 0.1 * seconds;
            windowSteps++;
            if (iter % _global.PrintBatchStep == 0 || iter == iters - 1)
            {
                long remaining = (long)(_global.Epochs - epoch) * iters + (iters - iter - 1);
                PpclsLog.Info(TrainLog.TrainStep(epoch, _global.Epochs, iter, iters, schedule.Name, lr, window.Averages,
                    batchSeconds / windowSteps, readerSeconds / windowSteps, count, TimeSpan.FromSeconds(remaining * meanBatchSeconds)));
                board?.AddScalars(window.Averages.Select(kv => KeyValuePair.Create("train/" + kv.Key, kv.Value))
                    .Append(KeyValuePair.Create("train/lr", lr)), (long)(epoch - 1) * iters + iter);
                window.Reset();
                batchSeconds = readerSeconds = 0;
                windowSteps = 0;
            }
            iter++;
            reader.Restart();
        }
        PpclsLog.Info(TrainLog.TrainAverage(epoch, _global.Epochs, epochAverages.Averages) +
            $", resident_memory: {ProcessMemory.ResidentBytes() / 1048576.0:F1} MiB");
        return (epochAverages.Averages.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), lastLr);

        PpclsUserException NonFinite(int e, int i, float value)
        {
            string latest = CheckpointStore.StatePath(Path.Combine(OutputDir, "latest"));
            string lastGood = state.Epoch > 0 && File.Exists(latest) ? Path.Combine(OutputDir, "latest") + $" (epoch {state.Epoch})" : "none yet";
            return new PpclsUserException(
                $"the training loss became {value} at epoch {e}, iteration {i}; the last good checkpoint is {lastGood}. " +
                "Lower Optimizer.lr.learning_rate or check the data, then resume with -o Global.checkpoints=<that checkpoint>");
        }
    }

    void Save(string name, nn.Module model, TrainingOptimizer optimizer, ModelEma? ema, TrainingState state)
    {
        string prefix = Path.Combine(OutputDir, name);
        CheckpointStore.Save(prefix, model, optimizer.Inner as OptimizerHelper, ema?.Module, state);
        PpclsLog.Info($"Already save model in {prefix}");
    }

    TrainingState Resume(string from, nn.Module model, TrainingOptimizer optimizer, ModelEma? ema, LearningRateSchedule schedule)
    {
        var checkpoint = CheckpointStore.Load(from, "Global.checkpoints");
        var (archName, classNum) = (_s.Config.Arch.Name, _s.Config.Arch.ClassNum);
        if (checkpoint.State.ArchName != archName || checkpoint.State.ClassNum != classNum)
            throw new PpclsUserException(
                $"Global.checkpoints: {checkpoint.Prefix} was trained as {checkpoint.State.ArchName} with class_num {checkpoint.State.ClassNum}, but this config has {archName} with class_num {classNum}; " +
                "resuming continues the same run, so use the same Arch. To start a new run from those weights (fine-tuning), set Global.pretrained_model instead and Global.checkpoints to null");
        WeightLoader.Load(model, checkpoint.Weights, _s.Preset.ClassifierKey, strict: true, CheckpointStore.WeightsPath(checkpoint.Prefix));
        if (ema is not null)
        {
            if (checkpoint.EmaWeights is { } emaWeights) WeightLoader.Load(ema.Module, emaWeights, null, strict: true, CheckpointStore.EmaPath(checkpoint.Prefix));
            else ema.Set();
        }
        if (checkpoint.OptimizerStatePath is { } optimizerState && optimizer.Inner is OptimizerHelper helper)
            helper.load_state_dict(optimizerState);
        schedule.Restore(checkpoint.State.GlobalStep);
        optimizer.SetLearningRate(schedule.Current);
        PpclsLog.Info($"resume from {checkpoint.Prefix}: epoch {checkpoint.State.Epoch} done, step {checkpoint.State.GlobalStep}, best {MetricKey} {checkpoint.State.BestMetric:F5}");
        return checkpoint.State;
    }

    void LoadPretrained(string path, string keyPath, nn.Module model, ModelEma? ema)
    {
        string file = WeightLoader.Resolve(path, keyPath);
        var weights = SafeTensorsFile.Read(file).Tensors;
        var report = WeightLoader.Load(model, weights, _s.Preset.ClassifierKey, strict: true, file);
        if (report.SkippedClassifier.Count > 0)
            PpclsLog.Warn($"{file}: classifier keys skipped (class_num differs, fine-tuning): {string.Join(", ", report.SkippedClassifier)}");
        PpclsLog.Info($"loaded {report.Loaded} tensors from {file}");
        ema?.Set();
    }
}
