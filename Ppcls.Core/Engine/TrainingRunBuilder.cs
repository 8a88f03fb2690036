using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
using Ppcls.Core.Logging;
using Ppcls.Core.Loss;
using Ppcls.Core.Metric;
using Ppcls.Core.Optim;
using TorchSharp;
using TorchSharp.Modules;

namespace Ppcls.Core.Engine;

/// <summary>
/// Builds and validates every piece of a <see cref="TrainingRun"/> from the config (loaders,
/// losses, metrics, LR schedule, optimizer, EMA, evaluator), then loads the weights to resume or
/// start from, all before an image is read. What it built is disposed again if a later piece fails.
/// </summary>
sealed class TrainingRunBuilder(TrainingSession session, ITrainingObserver? observer, ICommunicator world, bool checkOnly = false)
{
    readonly List<IDisposable> _built = [];
    readonly GlobalConfig _global = session.Config.Global;

    T Own<T>(T piece) where T : IDisposable
    {
        _built.Add(piece);
        return piece;
    }

    public TrainingRun Build()
    {
        try
        {
            return BuildPieces();
        }
        catch
        {
            for (int i = _built.Count - 1; i >= 0; i--) _built[i].Dispose();
            throw;
        }
    }

    TrainingRun BuildPieces()
    {
        var config = session.Config;
        var loaders = config.DataLoader ?? throw new PpclsUserException("DataLoader: the config has no DataLoader section; add DataLoader.Train (and Eval)");
        var trainConfig = loaders.Train ?? throw new PpclsUserException("DataLoader.Train: missing; add the training loader to the config");
        var optimizerConfig = config.Optimizer ?? throw new PpclsUserException("Optimizer: missing; add e.g. Optimizer: {name: Momentum, momentum: 0.9, lr: {name: Cosine, learning_rate: 0.1}}");
        int classNum = config.Arch.ClassNum;
        long seed = _global.Seed ?? ModuleSync.Value(world, Random.Shared.NextInt64(int.MaxValue));

        var trainLoader = Own(session.Data.Build(trainConfig, classNum, seed, PpclsLog.Info, new DataShard(world.Rank, world.Size, Pad: true)));
        bool retrieval = _global.EvalMode == EvalMode.Retrieval;
        var evalLoader = EvalLoader(loaders, retrieval, classNum, seed);
        if (trainLoader.LabelSummary?.FewClassesWarning(classNum) is { } fewClasses) PpclsLog.Warn(fewClasses);
        var lossContext = new LossContext(classNum, trainLoader.LabelSummary?.ClassCounts, trainLoader.LabelSummary?.ListKey ?? "the training list", PpclsLog.Info);
        var trainLoss = LossFactory.Build(config.Loss.Train, PpclsLog.Info, lossContext)
            ?? throw new PpclsUserException("Loss.Train: empty; add e.g. Loss: {Train: [{CELoss: {weight: 1.0}}]}");
        bool labelled = trainLoader.LabelSummary?.Unlabeled != true;
        if (!labelled && trainLoss.UsesLabels)
            throw new PpclsUserException($"Loss.Train: {string.Join(", ", trainLoss.Terms.Where(t => t.Term.UsesLabels).Select(t => t.Term.Name))} reads labels, " +
                $"but {trainLoader.LabelSummary!.ListKey} ({trainLoader.LabelSummary.ListPath}) lists images without labels; use losses that learn from a teacher (DistillationCELoss, DistillationDMLLoss, DistillationKLDivLoss) or a labelled list");
        var trainMetrics = MetricFactory.Build(config.Metric.Train, PpclsLog.Info, PpclsLog.Warn);
        var evalMetrics = MetricFactory.Build(config.Metric.Eval, PpclsLog.Info, PpclsLog.Warn, _global.Retrieval);
        MultiLabelMode.Check(_global.UseMultilabel, trainLoader.LabelSummary, "DataLoader.Train", trainMetrics, "Metric.Train");
        MultiLabelMode.CheckTrainMetrics(trainMetrics);
        if (evalLoader is not null) MultiLabelMode.Check(_global.UseMultilabel, evalLoader.LabelSummary, "DataLoader.Eval", evalMetrics, "Metric.Eval");

        if (trainLoader.BatchCount == 0)
            throw new PpclsUserException($"DataLoader.Train: the {trainLoader.SampleCount} images of the list make no full batch of DataLoader.Train.sampler.batch_size ({trainConfig.Sampler.BatchSize}) " +
                "with drop_last: True; lower the batch size, set drop_last: False, or add images");
        int updateFreq = _global.UpdateFreq;
        if (trainLoader.BatchCount < updateFreq)
        {
            PpclsLog.Warn($"Global.update_freq ({updateFreq}) is more than the {trainLoader.BatchCount} batches per epoch; using 1");
            updateFreq = 1;
        }
        int itersPerEpoch = trainLoader.BatchCount / updateFreq * updateFreq;
        var schedule = LearningRateScheduleFactory.Build(optimizerConfig.Lr, _global.Epochs, itersPerEpoch / updateFreq, PpclsLog.Info);
        var model = session.Model;
        var freeze = Freeze();
        var optimizer = Own(OptimizerFactory.Build(optimizerConfig, model.named_parameters().Select(p => (p.name, p.parameter)),
            config.QuantAware ? Quantization.QuantAware.WithPactRates(model, model as Models.ILearningRateMultipliers) : model as Models.ILearningRateMultipliers,
            schedule.Current, PpclsLog.Info));
        var ema = config.Ema is { } emaConfig ? new ModelEma(model, session.Placement.Model(session.BuildTwin()), emaConfig.Decay) : null;
        IEvaluator? evaluator = retrieval && _global.EvalDuringTrain
            ? Own(RetrievalEvaluator.Build(config, session.Data, evalMetrics, seed, session.Placement, observer, world, PpclsLog.Info))
            : evalLoader is null ? null
            : new Evaluator(evalLoader, LossFactory.Build(config.Loss.Eval, PpclsLog.Info, lossContext), evalMetrics, session.Placement, _global.PrintBatchStep, observer, world);

        var start = _global.Checkpoints is { } resumeFrom
            ? Resume(resumeFrom, optimizer, ema, schedule)
            : StartFromConfiguredWeights(ema);
        var gradientSync = Distribute(ema, trainConfig.Sampler.BatchSize);

        var run = new TrainingRun
        {
            TrainLoader = trainLoader,
            EvalLoader = evalLoader,
            TrainLoss = trainLoss,
            TrainMetrics = trainMetrics,
            TrainLabelled = labelled,
            Optimizer = optimizer,
            Schedule = schedule,
            Ema = ema,
            Freeze = freeze,
            Evaluator = evaluator,
            UpdateFreq = updateFreq,
            ItersPerEpoch = itersPerEpoch,
            Seed = seed,
            Start = start,
            GradientSync = gradientSync,
        };
        PpclsLog.Info($"train: {trainLoader.SampleCount} images, {itersPerEpoch} iterations per epoch, {_global.Epochs} epochs, " +
            $"{optimizer.Groups.Count} parameter group(s), seed {seed}, output {Path.GetFullPath(Trainer.OutputDirOf(config))}");
        return run;
    }

    IBatchSource? EvalLoader(DataLoaderConfig loaders, bool retrieval, int classNum, long seed)
    {
        if (loaders.Eval is not { } e || !_global.EvalDuringTrain || retrieval) return null;
        var loader = Own(session.Data.Build(e, classNum, seed, PpclsLog.Info, new DataShard(world.Rank, world.Size, Pad: false)));
        if (loader.BatchCount == 0 && world.Size > 1)
            throw new PpclsUserException($"DataLoader.Eval: rank {world.Rank} of {world.Size} gets no eval batch ({loader.SampleCount} images); " +
                "use fewer ranks, more eval images, or DataLoader.Eval.sampler.drop_last: False");
        return loader;
    }

    BackboneFreeze? Freeze()
    {
        if (!session.Config.Arch.FreezeBackbone) return null;
        string classifierKey = session.Preset.ClassifierKey;
        var freeze = BackboneFreeze.Apply(session.Model, classifierKey);
        PpclsLog.Info($"Arch.freeze_backbone: training only {classifierKey[..classifierKey.LastIndexOf('.')]}; " +
            "the rest is frozen (no gradients, no optimizer state, BatchNorm statistics fixed)");
        return freeze;
    }

    /// <summary>A new run starts from the weights the config names (fine-tuning: a classifier of another class count is skipped).</summary>
    TrainingState StartFromConfiguredWeights(ModelEma? ema)
    {
        // A check run says which pretrained file is missing and goes on; a real run stops there.
        ConfiguredWeights.Load(session.Built, session.Config, ClassifierPolicy.SkipWhenShapeDiffers, PpclsLog.Info, PpclsLog.Warn,
            checkOnly ? message => PpclsLog.Warn($"{message} (a training run stops here)") : null);
        ema?.Set();
        return TrainingState.Fresh(session.Config.Arch.Name, session.Config.Arch.ClassNum);
    }

    TrainingState Resume(string from, TrainingOptimizer optimizer, ModelEma? ema, LearningRateSchedule schedule)
    {
        var checkpoint = CheckpointStore.Load(from, "Global.checkpoints");
        try
        {
            var (archName, classNum) = (session.Config.Arch.Name, session.Config.Arch.ClassNum);
            if (checkpoint.State.ArchName != archName || checkpoint.State.ClassNum != classNum)
                throw new PpclsUserException(
                    $"Global.checkpoints: {checkpoint.Prefix} was trained as {checkpoint.State.ArchName} with class_num {checkpoint.State.ClassNum}, but this config has {archName} with class_num {classNum}; " +
                    "resuming continues the same run, so use the same Arch. To start a new run from those weights (fine-tuning), set Global.pretrained_model instead and Global.checkpoints to null");
            WeightLoader.Load(session.Model, checkpoint.Weights, session.Preset.ClassifierKey, strict: true, CheckpointStore.WeightsPath(checkpoint.Prefix));
            if (ema is not null)
            {
                if (checkpoint.EmaWeights is { } emaWeights) WeightLoader.Load(ema.Module, emaWeights, null, strict: true, CheckpointStore.EmaPath(checkpoint.Prefix));
                else ema.Set();
            }
            if (checkpoint.OptimizerStatePath is { } optimizerState && optimizer.Inner is OptimizerHelper helper)
                LoadOptimizerState(helper, optimizerState);
            // Checkpoints are written at epoch ends; another rank count or batch size changes the steps per epoch.
            long step = schedule.StepsAfterEpochs(checkpoint.State.Epoch);
            if (step != checkpoint.State.GlobalStep)
                PpclsLog.Info($"resume: {checkpoint.Prefix} was at step {checkpoint.State.GlobalStep} after epoch {checkpoint.State.Epoch}; " +
                    $"with {schedule.ItersPerEpoch} step(s) per epoch now (ranks or batch size changed) the LR schedule continues from step {step}");
            schedule.Restore(step);
            optimizer.SetLearningRate(schedule.Current);
            var state = checkpoint.State.WithoutLegacyBest();
            // "best metric", as PaddleClas logs it: top1, recall1 or the loss; the state keeps the value, not its name.
            PpclsLog.Info($"resume from {checkpoint.Prefix}: epoch {state.Epoch} done, step {state.GlobalStep}, best metric " +
                (state.BestMetric is { } best ? best.ToString("F5", System.Globalization.CultureInfo.InvariantCulture) : "none yet"));
            return state;
        }
        finally
        {
            foreach (var tensor in checkpoint.Weights.Values.Concat(checkpoint.EmaWeights?.Values ?? Enumerable.Empty<torch.Tensor>())) tensor.Dispose();
        }
    }

    /// <summary>TorchSharp's optimizer-state reader fails with its own words on a damaged file; this names the file.</summary>
    static void LoadOptimizerState(OptimizerHelper optimizer, string path)
    {
        try
        {
            OptimizerStateFile.Load(optimizer, path);
        }
        catch (Exception e) when (e is not PpclsUserException)
        {
            throw new PpclsUserException($"{path}: unreadable optimizer state ({e.Message}); resume from another checkpoint (best_model or epoch_N), " +
                "or start a new run from its weights with Global.pretrained_model");
        }
    }

    /// <summary>
    /// Under mpirun: every rank starts from rank 0's weights and averages its gradients with the others;
    /// with `Arch.use_sync_bn` its BatchNorm layers take their statistics over all ranks' batches.
    /// </summary>
    GradientAllReduce? Distribute(ModelEma? ema, int batchSize)
    {
        bool syncBn = session.Config.Arch.UseSyncBn;
        if (world.Size <= 1)
        {
            if (syncBn) PpclsLog.Info("Arch.use_sync_bn: one rank, so BatchNorm is plain BatchNorm (its batch is the whole batch)");
            return null;
        }
        var model = session.Model;
        if (syncBn)
        {
            int layers = SyncBatchNorm.Apply(model, world);
            PpclsLog.Info($"Arch.use_sync_bn: {layers} BatchNorm layer(s) take their training statistics over the batches of all {world.Size} ranks");
        }
        ModuleSync.FromRank(world, model);
        if (ema is not null) ModuleSync.FromRank(world, ema.Module);
        var sync = Own(new GradientAllReduce(world, model, (long)(session.Config.Global.DistBucketMegabytes * 1048576)));
        PpclsLog.Info($"data parallel: {world.Size} ranks ({world.Backend}), weights from rank 0, gradients averaged in " +
            $"{sync.BucketElements.Count} bucket(s) of {string.Join(", ", sync.BucketElements.Select(n => $"{n * sizeof(float) / 1048576.0:F2} MiB"))} " +
            (sync.WatchedBuckets > 0 ? $"({sync.WatchedBuckets} started during backward as soon as it fills them, the last after it)" : "(started after backward)") +
            $"; global batch {batchSize * world.Size}");
        return sync;
    }
}
