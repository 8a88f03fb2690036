using System.Diagnostics;
using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
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

/// <summary>
/// What a finished training run reached; <paramref name="History"/> has every epoch, those before a
/// resume included. <paramref name="MetricName"/> names what <paramref name="BestMetric"/> measures
/// (top1, recall1 for retrieval, or -loss without either).
/// </summary>
public sealed record TrainingResult(int Epochs, double BestMetric, int BestEpoch, string OutputDir, bool StoppedEarly,
    IReadOnlyList<EpochRecord> History, string MetricName = "top1");

/// <summary>
/// The training loop of `ppcls train`, with PaddleClas's semantics: the LR schedule steps
/// per iteration (or per epoch), `update_freq` accumulates gradients, EMA follows each
/// optimizer step, eval runs every `eval_interval` epochs, and `latest`, `best_model` and
/// `epoch_N` checkpoints are written in `&lt;output_dir&gt;/&lt;Arch.name&gt;/`, each with the per-epoch
/// history (<see cref="EpochRecord"/>); with `Global.use_tensorboard` the logged train values
/// and LR (per print step) and eval averages (per eval) go to TensorBoard. Every step runs in
/// its own dispose scope. Each epoch reseeds torch from (seed, epoch), so a resumed run draws
/// the same dropout masks as an uninterrupted one. Under mpirun every rank runs this loop on its
/// shard of each batch (<see cref="DataShard"/>): the weights start from rank 0's, gradients are
/// averaged over the ranks before each optimizer step, BN statistics stay per rank during an
/// epoch and are averaged at its end, eval metrics cover the whole eval set,
/// and only rank 0 writes checkpoints and TensorBoard files.
/// </summary>
public sealed class Trainer
{
    const string MetricKey = "top1";
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

    string OutputDir => Path.Combine(_global.OutputDir, _s.Config.Arch.Name);

    /// <summary>
    /// Builds everything (loaders with their list files, losses, metrics, schedule, optimizer,
    /// EMA, weights to resume or start from), then trains, or with <paramref name="checkOnly"/>
    /// stops there: no image has been read by then.
    /// </summary>
    public TrainingResult Run(bool checkOnly = false)
    {
        using var run = Prepare();
        var schedule = run.Schedule;
        if (checkOnly)
        {
            PpclsLog.Info($"check passed: loaders, losses, metrics, LR schedule ({schedule.Name}) and optimizer ({run.Optimizer.Name}) are valid" +
                (run.Evaluator is RetrievalEvaluator retrieval ? $"; eval: {retrieval.SampleCount} gallery and query images"
                    : run.EvalLoader is null ? "" : $"; eval: {run.EvalLoader.SampleCount} images"));
            return new TrainingResult(run.State.Epoch, run.State.BestMetric, run.State.BestEpoch, OutputDir, StoppedEarly: false, run.State.History ?? []);
        }
        var model = _s.Model;
        run.Board = _global.UseTensorboard && _world.Rank == 0 ? TensorBoardWriter.Create(Path.Combine(OutputDir, "tensorboard")) : null;
        if (run.Board is { } board) PpclsLog.Info($"TensorBoard scalars: {board.FilePath} (view with: tensorboard --logdir {Path.GetFullPath(OutputDir)})");
        if (run.State.Epoch == 0) TeacherCheck.Run(model, run.EvalLoader, _s.Config.Arch.ClassNum, _s.Device);
        var history = new List<EpochRecord>(run.State.History ?? []);
        bool stoppedEarly = false;
        string metricName = MetricKey;
        for (int epoch = run.State.Epoch + 1; epoch <= _global.Epochs; epoch++)
        {
            manual_seed(EpochSeed(run.Seed, epoch) + _world.Rank); // ranks draw different dropout masks
            var (trainAverages, lastLr) = TrainEpoch(run, epoch, run.TrainLoader, run.ItersPerEpoch);
            schedule.OnEpochEnd();
            if (_world.Size > 1)
            {
                ModuleSync.AverageBuffers(_world, model);
                if (run.Ema is { } ema) ModuleSync.AverageBuffers(_world, ema.Module);
            }
            run.State = run.State with { Epoch = epoch, GlobalStep = schedule.LastStep };
            var record = new EpochRecord(epoch, trainAverages.GetValueOrDefault(CombinedLoss.TotalKey, double.NaN), lastLr);
            bool evaluate = run.Evaluator is not null && epoch % _global.EvalInterval == 0 && epoch > _global.StartEvalEpoch;
            var metrics = evaluate ? run.Evaluator!.Run(run.Ema?.Module ?? model, epoch) : null;
            if (metrics is not null)
            {
                run.Board?.AddScalars(metrics.Select(kv => KeyValuePair.Create("eval/" + kv.Key, kv.Value)), epoch);
                record = record with
                {
                    EvalLoss = metrics.TryGetValue(CombinedLoss.TotalKey, out var lossValue) ? lossValue : null,
                    EvalTop1 = metrics.TryGetValue(MetricKey, out var top1Value) ? top1Value : null,
                };
            }
            // Every checkpoint of this epoch, best_model included, carries the history up to it.
            history.Add(record);
            run.State = run.State with { History = history.ToArray() };

            if (metrics is not null)
            {
                (metricName, double metric) = metrics.TryGetValue(MetricKey, out var top1) ? (MetricKey, top1)
                    : metrics.TryGetValue("recall1", out var recall1) ? ("recall1", recall1) : ("-loss", -metrics.GetValueOrDefault(CombinedLoss.TotalKey));
                if (metric > run.State.BestMetric)
                {
                    run.State = run.State with { BestMetric = metric, BestEpoch = epoch, EvalsWithoutImprovement = 0 };
                    Save("best_model", run);
                }
                else run.State = run.State with { EvalsWithoutImprovement = run.State.EvalsWithoutImprovement + 1 };
                PpclsLog.Info(TrainLog.BestMetric(epoch, run.State.BestMetric));
                if (_global.EarlyStopPatience is { } patience && run.State.EvalsWithoutImprovement >= patience)
                {
                    PpclsLog.Info($"early stop: {patience} evaluation(s) without a better {metricName} (best {run.State.BestMetric:F5} at epoch {run.State.BestEpoch})");
                    stoppedEarly = true;
                }
            }
            if (epoch % _global.SaveInterval == 0) Save($"epoch_{epoch}", run);
            Save("latest", run);
            if (stoppedEarly) break;
        }
        return new TrainingResult(run.State.Epoch, run.State.BestMetric, run.State.BestEpoch, OutputDir, stoppedEarly, history, metricName);
    }

    /// <summary>
    /// Builds and validates every piece of a run from the config (loaders, losses, metrics, LR
    /// schedule, optimizer, EMA, evaluator) and loads the weights to resume or start from, without
    /// reading an image. <see cref="Run"/> starts here; a benchmark can too, then drive
    /// <see cref="TrainEpoch"/> itself.
    /// </summary>
    public TrainingRun Prepare()
    {
        var config = _s.Config;
        var loaders = config.DataLoader ?? throw new PpclsUserException("DataLoader: the config has no DataLoader section; add DataLoader.Train (and Eval)");
        var trainConfig = loaders.Train ?? throw new PpclsUserException("DataLoader.Train: missing; add the training loader to the config");
        var optimizerConfig = config.Optimizer ?? throw new PpclsUserException("Optimizer: missing; add e.g. Optimizer: {name: Momentum, momentum: 0.9, lr: {name: Cosine, learning_rate: 0.1}}");
        int classNum = config.Arch.ClassNum;
        long seed = _global.Seed ?? ModuleSync.Value(_world, Random.Shared.NextInt64(int.MaxValue));
        var run = new TrainingRun { Seed = seed };
        try
        {
            // Everything is validated before the first image is read.
            run.TrainLoader = _s.Data.Build(trainConfig, classNum, seed, PpclsLog.Info, new DataShard(_world.Rank, _world.Size, Pad: true));
            bool retrieval = _global.EvalMode == GlobalConfig.RetrievalMode;
            run.EvalLoader = loaders.Eval is { } e && _global.EvalDuringTrain && !retrieval
                ? _s.Data.Build(e, classNum, seed, PpclsLog.Info, new DataShard(_world.Rank, _world.Size, Pad: false))
                : null;
            if (run.EvalLoader is { BatchCount: 0 } && _world.Size > 1)
                throw new PpclsUserException($"DataLoader.Eval: rank {_world.Rank} of {_world.Size} gets no eval batch ({run.EvalLoader.SampleCount} images); " +
                    "use fewer ranks, more eval images, or DataLoader.Eval.sampler.drop_last: False");
            string labelsKey = trainConfig.Dataset.KeyPath(trainConfig.Dataset.Has("cls_label_path") ? "cls_label_path" : "image_root");
            if (run.TrainLoader.LabelSummary?.FewClassesWarning(classNum, labelsKey) is { } fewClasses)
                PpclsLog.Warn(fewClasses);
            run.TrainLoss = LossFactory.Build(config.Loss.Train, PpclsLog.Info)
                ?? throw new PpclsUserException("Loss.Train: empty; add e.g. Loss: {Train: [{CELoss: {weight: 1.0}}]}");
            run.TrainLabelled = run.TrainLoader.LabelSummary?.Unlabeled != true;
            if (!run.TrainLabelled && run.TrainLoss.UsesLabels)
                throw new PpclsUserException($"Loss.Train: {string.Join(", ", run.TrainLoss.Terms.Where(t => t.Term.UsesLabels).Select(t => t.Term.Name))} reads labels, " +
                    $"but {labelsKey} ({run.TrainLoader.LabelSummary!.ListPath}) lists images without labels; use losses that learn from a teacher (DistillationCELoss, DistillationDMLLoss, DistillationKLDivLoss) or a labelled list");
            var evalLoss = LossFactory.Build(config.Loss.Eval, PpclsLog.Info);
            run.TrainMetrics = MetricFactory.Build(config.Metric.Train, PpclsLog.Info, PpclsLog.Warn);
            var evalMetrics = MetricFactory.Build(config.Metric.Eval, PpclsLog.Info, PpclsLog.Warn, _global.Retrieval);

            int updateFreq = _global.UpdateFreq;
            if (run.TrainLoader.BatchCount < updateFreq)
            {
                PpclsLog.Warn($"Global.update_freq ({updateFreq}) is more than the {run.TrainLoader.BatchCount} batches per epoch; using 1");
                updateFreq = 1;
            }
            run.UpdateFreq = updateFreq;
            run.ItersPerEpoch = run.TrainLoader.BatchCount / updateFreq * updateFreq;
            run.Schedule = LearningRateScheduleFactory.Build(optimizerConfig.Lr, _global.Epochs, run.ItersPerEpoch / updateFreq, PpclsLog.Info);
            var model = _s.Model;
            if (config.Arch.FreezeBackbone)
            {
                run.Freeze = BackboneFreeze.Apply(model, _s.Preset.ClassifierKey);
                PpclsLog.Info($"Arch.freeze_backbone: training only {_s.Preset.ClassifierKey[.._s.Preset.ClassifierKey.LastIndexOf('.')]}; " +
                    "the rest is frozen (no gradients, no optimizer state, BatchNorm statistics fixed)");
            }
            run.Optimizer = OptimizerFactory.Build(optimizerConfig, model.named_parameters().Select(p => (p.name, p.parameter)),
                model as ILearningRateMultipliers, run.Schedule.Current, PpclsLog.Info);
            run.Ema = config.Ema is { } emaConfig ? new ModelEma(model, _s.BuildTwin().to(_s.Device), emaConfig.Decay) : null;
            run.Evaluator = retrieval && _global.EvalDuringTrain
                ? RetrievalEvaluator.Build(config, _s.Data, evalMetrics, seed, _s.Device, _observer, _world, PpclsLog.Info)
                : run.EvalLoader is null ? null : new Evaluator(run.EvalLoader, evalLoss, evalMetrics, _s.Device, _global.PrintBatchStep, _observer, _world);

            run.State = new TrainingState(config.Arch.Name, classNum, 0, 0, -1, 0, 0);
            if (_global.Checkpoints is { } resumeFrom)
                run.State = Resume(resumeFrom, model, run.Optimizer, run.Ema, run.Schedule);
            else
            {
                // PaddleClas loads Arch.pretrained (backbone weights) when the model is built, then Global.pretrained_model.
                if (config.Arch.PretrainedPath is { } archWeights) LoadPretrained(archWeights, "Arch.pretrained", model, run.Ema);
                if (_global.PretrainedModel is { } pretrained) LoadPretrained(pretrained, "Global.pretrained_model", model, run.Ema);
            }
            if (_world.Size > 1)
            {
                ModuleSync.FromRank(_world, model);
                if (run.Ema is { } ema) ModuleSync.FromRank(_world, ema.Module);
                run.GradientSync = new GradientAllReduce(_world, model.parameters());
                PpclsLog.Info($"data parallel: {_world.Size} ranks ({_world.Backend}), weights from rank 0, gradients averaged in " +
                    $"{run.GradientSync.BucketElements.Count} bucket(s) of {string.Join(", ", run.GradientSync.BucketElements.Select(n => $"{n * sizeof(float) / 1048576.0:F2} MiB"))}; " +
                    $"global batch {trainConfig.Sampler.BatchSize * _world.Size}");
            }
            if (config.Arch.PretrainedFromHub)
                PpclsLog.Warn("Arch.pretrained is True: PaddleClas would download ImageNet weights, which Ppcls does not do; " +
                    "set Arch.pretrained (or Global.pretrained_model) to a local weights file. Training starts from random weights.");

            PpclsLog.Info($"train: {run.TrainLoader.SampleCount} images, {run.ItersPerEpoch} iterations per epoch, {_global.Epochs} epochs, " +
                $"{run.Optimizer.Groups.Count} parameter group(s), seed {seed}, output {Path.GetFullPath(OutputDir)}");
            return run;
        }
        catch
        {
            run.Dispose();
            throw;
        }
    }

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
    /// PaddleClas's `[Train]` lines. The observer gets each step's timing. Returns the epoch's
    /// averages and the LR of its last iteration.
    /// </summary>
    public (IReadOnlyDictionary<string, double> Averages, double LastLr) TrainEpoch(TrainingRun run, int epoch, IBatchSource loader, int iterations)
    {
        var model = _s.Model;
        var loss = run.TrainLoss;
        var metrics = run.TrainMetrics;
        var optimizer = run.Optimizer;
        var schedule = run.Schedule;
        var ema = run.Ema;
        int updateFreq = run.UpdateFreq;
        int iters = iterations;
        model.train();
        run.Freeze?.KeepStatistics(model);
        var window = new AverageMeterSet();
        var epochAverages = new AverageMeterSet();
        double batchSeconds = 0, readerSeconds = 0, meanBatchSeconds = 0, lastLr = schedule.Current;
        int iter = 0, windowSteps = 0;
        optimizer.SetLearningRate(schedule.Current);
        _observer?.OnEpochStarted(new EpochStarted(RunPhase.Train, epoch, _global.Epochs, iters));
        var reader = Stopwatch.StartNew();
        foreach (var batch in loader.Epoch(epoch, next: epoch < _global.Epochs ? epoch + 1 : null))
        {
            if (iter >= iters) { batch.Dispose(); break; } // the tail that update_freq cannot use
            long readerTicks = reader.ElapsedTicks;
            readerSeconds += reader.Elapsed.TotalSeconds;
            double lr = lastLr = schedule.Current;
            int count = batch.Count;
            long forwardTicks, backwardTicks, optimizerTicks = 0;
            float totalValue;
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            using (var owned = batch)
            using (var scope = NewDisposeScope())
            {
                var images = batch.Images.to(_s.Device);
                var labels = batch.Labels.to(_s.Device);
                long mark = reader.ElapsedTicks;
                var output = ModelOutput.Run(model, images);
                var losses = loss.Compute(output, labels);
                forwardTicks = reader.ElapsedTicks - mark;
                var total = losses[CombinedLoss.TotalKey];
                totalValue = total.item<float>();
                if (!float.IsFinite(totalValue)) throw NonFinite(epoch, iter, totalValue);
                mark = reader.ElapsedTicks;
                (updateFreq == 1 ? total : total / updateFreq).backward();
                backwardTicks = reader.ElapsedTicks - mark;
                if ((iter + 1) % updateFreq == 0)
                {
                    mark = reader.ElapsedTicks;
                    run.GradientSync?.Run();
                    optimizer.Step();
                    optimizer.ZeroGrad();
                    schedule.OnIterationEnd();
                    optimizer.SetLearningRate(schedule.Current);
                    ema?.Update();
                    optimizerTicks = reader.ElapsedTicks - mark;
                }
                foreach (var (name, value) in losses) values[name] = name == CombinedLoss.TotalKey ? totalValue : value.item<float>();
                if (metrics is not null && !batch.SoftLabels && run.TrainLabelled)
                    foreach (var (name, value) in metrics.Compute(output, labels)) values[name] = value;
            }
            window.Update(values, count);
            epochAverages.Update(values, count);
            double seconds = reader.Elapsed.TotalSeconds;
            batchSeconds += seconds;
            meanBatchSeconds = meanBatchSeconds == 0 ? seconds : 0.9 * meanBatchSeconds + 0.1 * seconds;
            windowSteps++;
            long remaining = (long)(_global.Epochs - epoch) * iters + (iters - iter - 1);
            var eta = TimeSpan.FromSeconds(Math.Max(0, remaining) * meanBatchSeconds);
            if (iter % _global.PrintBatchStep == 0 || iter == iters - 1)
            {
                PpclsLog.Step(TrainLog.TrainStep(epoch, _global.Epochs, iter, iters, schedule.Name, lr, window.Averages,
                    batchSeconds / windowSteps, readerSeconds / windowSteps, count, eta));
                run.Board?.AddScalars(window.Averages.Select(kv => KeyValuePair.Create("train/" + kv.Key, kv.Value))
                    .Append(KeyValuePair.Create("train/lr", lr)), (long)(epoch - 1) * iters + iter);
                window.Reset();
                batchSeconds = readerSeconds = 0;
                windowSteps = 0;
            }
            var timing = new StepTiming(readerTicks, forwardTicks, backwardTicks, optimizerTicks, reader.ElapsedTicks);
            reader.Restart();
            _observer?.OnIterationFinished(new IterationFinished(RunPhase.Train, epoch, iter, iters, count, totalValue,
                meanBatchSeconds > 0 ? count / meanBatchSeconds : 0, eta, timing));
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
            string latest = CheckpointStore.StatePath(Path.Combine(OutputDir, "latest"));
            string lastGood = run.State.Epoch > 0 && File.Exists(latest) ? Path.Combine(OutputDir, "latest") + $" (epoch {run.State.Epoch})" : "none yet";
            return new PpclsUserException(
                $"the training loss became {value} at epoch {e}, iteration {i}; the last good checkpoint is {lastGood}. " +
                "Lower Optimizer.lr.learning_rate or check the data, then resume with -o Global.checkpoints=<that checkpoint>");
        }
    }

    void Save(string name, TrainingRun run)
    {
        if (_world.Rank != 0) return;
        string prefix = Path.Combine(OutputDir, name);
        CheckpointStore.Save(prefix, _s.Model, run.Optimizer.Inner as OptimizerHelper, run.Ema?.Module, run.State, _global.SaveFormat == "pdparams");
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
        // Checkpoints are written at epoch ends; another rank count or batch size changes the steps per epoch.
        long step = schedule.StepsAfterEpochs(checkpoint.State.Epoch);
        if (step != checkpoint.State.GlobalStep)
            PpclsLog.Info($"resume: {checkpoint.Prefix} was at step {checkpoint.State.GlobalStep} after epoch {checkpoint.State.Epoch}; " +
                $"with {schedule.ItersPerEpoch} step(s) per epoch now (ranks or batch size changed) the LR schedule continues from step {step}");
        schedule.Restore(step);
        optimizer.SetLearningRate(schedule.Current);
        // "best metric", as PaddleClas logs it: top1, recall1 or -loss; the state keeps the value, not its name.
        PpclsLog.Info($"resume from {checkpoint.Prefix}: epoch {checkpoint.State.Epoch} done, step {checkpoint.State.GlobalStep}, best metric {checkpoint.State.BestMetric:F5}");
        return checkpoint.State;
    }

    void LoadPretrained(string path, string keyPath, nn.Module model, ModelEma? ema)
    {
        var (file, report) = WeightLoader.LoadFile(model, path, keyPath, _s.Preset, _global.StrictLoad, PpclsLog.Warn);
        PpclsLog.Info($"loaded {report.Loaded} tensors from {file}");
        ema?.Set();
    }
}
