using System.Diagnostics;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
using Ppcls.Core.Logging;
using Ppcls.Core.Metric;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>
/// PaddleClas's retrieval eval (`Global.eval_mode: retrieval`): the gallery and the query images
/// are embed in eval mode under no-grad (<see cref="RetrievalOptions"/>), every query is compared
/// with every gallery image by inner product (cosine with `feature_normalize`), and Recallk / mAP
/// are logged as `[Eval][Epoch N][Avg]recall1: ..., recall5: ..., mAP: ...`. Losses are not
/// computed, as in PaddleClas. When the query set is the gallery itself (<c>query</c> null), each
/// image's match with itself is left out. Where both sets give camera ids (VeriWild lists), a gallery
/// image of the query's identity taken by the query's camera is left out too, as PaddleClas does
/// (in one process; under mpirun the shards' order is not the list's, so cameras are not used, with a
/// notice). Under mpirun every rank embeds its shard and the embeddings of all ranks are gathered
/// before scoring. Owns its loaders.
/// </summary>
public sealed class RetrievalEvaluator(IBatchSource gallery, IBatchSource? query, IReadOnlyList<RetrievalMetric> metrics, RetrievalOptions options,
    Placement placement, int printBatchStep, ITrainingObserver? observer = null, ICommunicator? communicator = null) : IEvaluator, IDisposable
{
    readonly ICommunicator _world = communicator ?? SingleProcess.Instance;

    /// <summary>Images embedded per pass: the gallery, plus the queries where they are another set.</summary>
    public int SampleCount => gallery.SampleCount + (query?.SampleCount ?? 0);

    /// <summary>
    /// The evaluator of a retrieval config: `DataLoader.Eval.Gallery` and `.Query` (one pass when
    /// both name the same images), either alone, or a plain `DataLoader.Eval` (queried against itself).
    /// Every metric of `Metric.Eval` must be Recallk or mAP.
    /// </summary>
    public static RetrievalEvaluator Build(PpclsConfig config, IDataLoaderBuilder data, MetricSet? metrics, long? seed, Placement placement,
        ITrainingObserver? observer, ICommunicator? communicator, Action<string> notice)
    {
        var world = communicator ?? SingleProcess.Instance;
        var loaders = config.DataLoader;
        var (galleryConfig, queryConfig) = (loaders?.Gallery, loaders?.Query);
        if (galleryConfig is null && queryConfig is null)
            galleryConfig = loaders?.Eval ?? throw new PpclsUserException(
                "DataLoader.Eval: missing; Global.eval_mode: retrieval needs DataLoader.Eval.Gallery and DataLoader.Eval.Query (or one eval set queried against itself)");
        if (galleryConfig is null || queryConfig is null)
        {
            notice($"{(galleryConfig ?? queryConfig)!.KeyPath} is queried against itself; each image's match with itself is left out");
            galleryConfig ??= queryConfig;
            queryConfig = null;
        }
        var retrievalMetrics = RetrievalMetrics(metrics);
        var shard = new DataShard(world.Rank, world.Size, Pad: false);
        var galleryLoader = Loader(galleryConfig!, "gallery");
        try
        {
            var queryLoader = queryConfig is null ? null : Loader(queryConfig, "query");
            if (queryLoader is not null && SameImages(galleryLoader, queryLoader))
            {
                notice("DataLoader.Eval: Gallery and Query list the same images; they are embedded once and each query's match with itself is left out");
                queryLoader.Dispose();
                queryLoader = null;
            }
            if (world.Size > 1 && galleryLoader.Cameras is not null)
                notice($"{galleryConfig!.KeyPath}: camera ids are not used under mpirun (same-camera matches of an identity are kept); evaluate in one process to leave them out");
            return new RetrievalEvaluator(galleryLoader, queryLoader, retrievalMetrics, config.Global.Retrieval, placement,
                config.Global.PrintBatchStep, observer, world);
        }
        catch
        {
            galleryLoader.Dispose();
            throw;
        }

        IBatchSource Loader(LoaderConfig loader, string name)
        {
            var built = data.Build(loader, config.Arch.ClassNum, seed, notice, shard);
            if (built.BatchCount == 0)
            {
                built.Dispose();
                throw new PpclsUserException($"{loader.KeyPath}: the {name} set has no batch" +
                    (world.Size > 1 ? $" on rank {world.Rank} of {world.Size}; use fewer ranks, more images, or sampler.drop_last: False" : "; check the list file and sampler.drop_last"));
            }
            return built;
        }
    }

    /// <summary>Metric.Eval's entries as retrieval metrics; anything else is a config error.</summary>
    static IReadOnlyList<RetrievalMetric> RetrievalMetrics(MetricSet? metrics)
    {
        var retrieval = metrics?.DatasetMetrics.OfType<RetrievalMetric>().ToList() ?? [];
        if (metrics is null || retrieval.Count == 0 || metrics.Metrics.Count > 0 || retrieval.Count != metrics.DatasetMetrics.Count)
            throw new ConfigException("Metric.Eval: Global.eval_mode: retrieval scores the query set against the gallery with Recallk and mAP only; " +
                "use e.g. Metric: {Eval: [{Recallk: {topk: [1, 5]}}, {mAP: {}}]}");
        return retrieval;
    }

    /// <summary>Both loaders read the same image files in the same order (their data sets know which).</summary>
    static bool SameImages(IBatchSource a, IBatchSource b) =>
        a.SampleCount == b.SampleCount && a.ImageFiles.Any() && a.ImageFiles.Select(Path.GetFullPath).SequenceEqual(b.ImageFiles.Select(Path.GetFullPath));

    public EvalResult Run(nn.Module<Tensor, Tensor> model, int epoch)
    {
        bool wasTraining = model.training;
        model.eval();
        int iters = gallery.BatchCount + (query?.BatchCount ?? 0), iter = 0;
        observer?.OnEpochStarted(new EpochStarted(RunPhase.Eval, epoch, 0, iters));
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        try
        {
            using var scope = NewDisposeScope();
            var (galleryFeatures, galleryLabels) = Embed(model, gallery, "gallery", epoch, iters, ref iter);
            var (queryFeatures, queryLabels) = query is null ? (galleryFeatures, galleryLabels) : Embed(model, query, "query", epoch, iters, ref iter);
            var similarity = queryFeatures.matmul(galleryFeatures.t());
            var keep = CameraKeepMask(queryLabels, galleryLabels) ?? (query is null ? Retrieval.WithoutSelf(galleryLabels.shape[0]) : null);
            foreach (var metric in metrics)
                foreach (var (name, value) in metric.Score(similarity, queryLabels, galleryLabels, keep)) result[name] = value;
        }
        finally
        {
            model.train(wasTraining);
        }
        PpclsLog.Info(TrainLog.EvalAverage(epoch, result));
        observer?.OnEpochFinished(new EpochFinished(RunPhase.Eval, epoch, result));
        return EvalResult.Of(result, result.Keys); // Recallk's recall1 leads where it is listed first, as in PaddleClas
    }

    /// <summary>
    /// PaddleClas's keep mask for ReID lists: a pair counts unless it shares both label and camera
    /// (which also leaves out each image's match with itself). Null without cameras on both sides.
    /// </summary>
    Tensor? CameraKeepMask(Tensor queryLabels, Tensor galleryLabels)
    {
        if (_world.Size > 1 || gallery.Cameras is not { } galleryCameras) return null;
        var queryCameras = query is null ? galleryCameras : query.Cameras;
        if (queryCameras is null || queryCameras.Count != queryLabels.shape[0] || galleryCameras.Count != galleryLabels.shape[0]) return null;
        var sameCamera = tensor(queryCameras.ToArray()).reshape(-1, 1).eq(tensor(galleryCameras.ToArray()).reshape(1, -1));
        var sameLabel = queryLabels.reshape(-1, 1).eq(galleryLabels.reshape(1, -1));
        return sameCamera.logical_and(sameLabel).logical_not();
    }

    /// <summary>The embeddings [N, D] and labels [N] of every image of <paramref name="loader"/>, gathered over the ranks.</summary>
    (Tensor Features, Tensor Labels) Embed(nn.Module<Tensor, Tensor> model, IBatchSource loader, string name, int epoch, int iters, ref int iter)
    {
        var features = new List<Tensor>();
        var labels = new List<Tensor>();
        using (no_grad())
        {
            var reader = Stopwatch.StartNew();
            int index = 0;
            foreach (var batch in loader.Epoch(epoch))
            {
                long readerTicks = reader.ElapsedTicks;
                if (printBatchStep > 0 && index % printBatchStep == 0)
                    PpclsLog.Step($"{name} feature calculation process: [{index}/{loader.BatchCount}]");
                using (var owned = batch)
                using (var step = NewDisposeScope())
                {
                    var output = ModelOutput.Run(model, placement.Images(batch.Images));
                    features.Add(options.Embed(output).MoveToOuterDisposeScope());
                    labels.Add(batch.Labels.reshape(-1).to_type(ScalarType.Float32).cpu().MoveToOuterDisposeScope());
                }
                var timing = new StepTiming(readerTicks, reader.ElapsedTicks - readerTicks, 0, 0, reader.ElapsedTicks);
                observer?.OnIterationFinished(new IterationFinished(RunPhase.Eval, epoch, iter, iters, (int)features[^1].shape[0], null,
                    features[^1].shape[0] / Math.Max(1e-9, reader.Elapsed.TotalSeconds), TimeSpan.Zero, timing));
                reader.Restart();
                index++;
                iter++;
            }
        }
        var all = RankGather.Batches(_world, features);
        var allLabels = RankGather.Batches(_world, labels).to_type(ScalarType.Int64);
        PpclsLog.Info($"Build {name} done, all feat shape: [{all.shape[0]}, {all.shape[1]}]");
        return (all, allLabels);
    }

    public void Dispose()
    {
        query?.Dispose();
        gallery.Dispose();
    }
}
