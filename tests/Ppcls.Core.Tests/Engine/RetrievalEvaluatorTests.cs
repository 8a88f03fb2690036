using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Core.Engine;
using Ppcls.Core.Metric;
using Ppcls.Core.Models;
using Ppcls.Core.Tests.Config;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Engine;

public sealed class RetrievalEvaluatorTests
{
    static readonly Placement OnCpu = new(CPU, MemoryFormat.Contiguous);

    const double Tol = 1e-6;

    /// <summary>A model whose `features` output is its input image flattened: [N, 2, 1, 1] images are 2-d points.</summary>
    sealed class PointModel : nn.Module<Tensor, Tensor>, IMultiOutputModel
    {
        public PointModel() : base("PointModel") => RegisterComponents();

        public override Tensor forward(Tensor x) => x.flatten(1);

        public ModelOutput ForwardOutputs(Tensor x, Tensor? labels = null) => new(new Dictionary<string, Tensor> { ["features"] = x.flatten(1) }, "features");
    }

    static Tensor Points(params double[] degrees) =>
        tensor(degrees.SelectMany(d => new[] { (float)Math.Cos(d * Math.PI / 180), (float)Math.Sin(d * Math.PI / 180) }).ToArray()).reshape(degrees.Length, 2, 1, 1);

    static InMemoryBatchSource Set(Tensor images, params long[] labels) => new(images, tensor(labels), classNum: 2, batchCount: 1);

    static IReadOnlyList<RetrievalMetric> RecallAndMap(RetrievalOptions? options = null) => [new RetrievalMetric([1, 2], false, options), new RetrievalMetric(null, true, options)];

    [Test]
    public void Queries_rank_the_gallery_by_cosine_similarity_and_score_recall_and_mAP()
    {
        // Gallery: class 0 at 0 and 40 degrees, class 1 at 90 and 130. Query class 0 at 30 degrees ranks
        // 40, 0, 90, 130: matches at ranks 1 and 2 (AP 1). Query class 1 at 60 degrees ranks 40, 90, 0, 130:
        // matches at ranks 2 and 4 (AP (1/2 + 2/4) / 2 = 0.5).
        using var evaluator = new RetrievalEvaluator(Set(Points(0, 40, 90, 130), 0, 0, 1, 1), Set(Points(30, 60), 0, 1),
            RecallAndMap(), RetrievalOptions.Default, OnCpu, printBatchStep: 0);

        var result = evaluator.Run(new PointModel(), epoch: 1);

        Assert.That(result.Values.Keys, Is.EqualTo(new[] { "recall1", "recall2", "mAP" }));
        Assert.That((result.MetricName, result.Direction), Is.EqualTo(("recall1", MetricDirection.HigherIsBetter)), "the first metric listed decides best_model");
        Assert.That(result["recall1"], Is.EqualTo(0.5).Within(Tol));
        Assert.That(result["recall2"], Is.EqualTo(1.0).Within(Tol));
        Assert.That(result["mAP"], Is.EqualTo(0.75).Within(Tol));
    }

    [Test]
    public void With_cameras_a_gallery_image_of_the_query_identity_from_the_query_camera_is_left_out()
    {
        // Gallery: identity 0 at 0 degrees (camera 1) and 60 (camera 2), identity 1 at 20 (camera 1). The query,
        // identity 0 at 10 degrees from camera 1, would match 0 first; with cameras that pair is left out, so
        // it ranks 20 (other identity), then 60 (its match, camera 2): recall1 0, recall2 1, AP 1/2.
        var gallery = Set(Points(0, 60, 20), 0, 0, 1);
        using var evaluator = new RetrievalEvaluator(
            new InMemoryBatchSource(Points(0, 60, 20), tensor(new long[] { 0, 0, 1 }), 2, 1) { Cameras = [1, 2, 1] },
            new InMemoryBatchSource(Points(10), tensor(new long[] { 0 }), 2, 1) { Cameras = [1] },
            RecallAndMap(), RetrievalOptions.Default, OnCpu, printBatchStep: 0);
        using var withoutCameras = new RetrievalEvaluator(gallery, Set(Points(10), 0), RecallAndMap(), RetrievalOptions.Default, OnCpu, printBatchStep: 0);

        var result = evaluator.Run(new PointModel(), epoch: 1);

        Assert.That((result["recall1"], result["recall2"], result["mAP"]), Is.EqualTo((0.0, 1.0, 0.5)));
        Assert.That(withoutCameras.Run(new PointModel(), epoch: 1)["recall1"], Is.EqualTo(1.0), "without cameras the same-camera match counts");
    }

    [Test]
    public void A_set_queried_against_itself_leaves_each_image_out()
    {
        // Class 0 at 0 and 70 degrees, class 1 at 90 and 130. Nearest others: 0 -> 70 (same), 70 -> 90 (other;
        // its match 0 comes third), 90 -> 70 (other; match 130 second), 130 -> 90 (same).
        using var evaluator = new RetrievalEvaluator(Set(Points(0, 70, 90, 130), 0, 0, 1, 1), null,
            RecallAndMap(), RetrievalOptions.Default, OnCpu, printBatchStep: 0);

        var result = evaluator.Run(new PointModel(), epoch: 1);

        Assert.That(result["recall1"], Is.EqualTo(0.5).Within(Tol), "each image finding itself would give 1.0");
        Assert.That(result["mAP"], Is.EqualTo((1 + 1.0 / 3 + 1.0 / 2 + 1) / 4).Within(Tol));
    }

    [Test]
    public void Without_feature_normalize_the_inner_product_ranks_by_length_too()
    {
        // Query class 0 at (1, 0.2); gallery class 0 at (1, 0), class 1 at (3, 3): the cosine prefers the
        // first (0.98 vs 0.83), the inner product the second (1 vs 3.6).
        var gallery = tensor(new float[] { 1, 0, 3, 3 }).reshape(2, 2, 1, 1);
        var query = tensor(new float[] { 1, 0.2f }).reshape(1, 2, 1, 1);
        double Recall1(bool normalize)
        {
            var options = new RetrievalOptions(Normalize: normalize);
            using var evaluator = new RetrievalEvaluator(Set(gallery.clone(), 0, 1), Set(query.clone(), 0), RecallAndMap(options), options, OnCpu, printBatchStep: 0);
            return evaluator.Run(new PointModel(), epoch: 1)["recall1"];
        }

        Assert.That((Recall1(true), Recall1(false)), Is.EqualTo((1.0, 0.0)));
    }

    [Test]
    public void Binarized_features_follow_PaddleClas_round_and_sign()
    {
        var output = new ModelOutput(new Dictionary<string, Tensor> { ["features"] = tensor(new float[] { 3, -4, 0 }).reshape(1, 3) }, "features");

        // Normalised to (0.6, -0.8, 0): round gives (1, -1, 0), times 2 minus 1 gives (1, -3, -1); sign gives (1, -1, 0).
        Assert.That(new RetrievalOptions(Binarize: "round").Embed(output).data<float>().ToArray(), Is.EqualTo(new float[] { 1, -3, -1 }));
        Assert.That(new RetrievalOptions(Binarize: "sign").Embed(output).data<float>().ToArray(), Is.EqualTo(new float[] { 1, -1, 0 }));
    }

    [Test]
    public void Classification_metrics_under_retrieval_are_a_config_error()
    {
        using var files = new ConfigTestFiles();
        var config = PpclsConfig.Load(files.Write("c.yaml", ConfigTestFiles.Minimal), 
            ["Global.eval_mode=retrieval", "DataLoader.Eval.Gallery.dataset.name=ImageNetDataset", "DataLoader.Eval.Gallery.sampler.batch_size=4"], _ => { });
        var metrics = new MetricSet([new TopkAccuracy([1], _ => { })]);

        var e = Assert.Throws<ConfigException>(() => RetrievalEvaluator.Build(config, new NoLoaders(), metrics, 1, OnCpu, null, null, _ => { }))!;

        Assert.That(e.Message, Does.StartWith("Metric.Eval: Global.eval_mode: retrieval scores the query set against the gallery with Recallk and mAP only"));
    }

    [TestCase("train.txt", "train.txt", 0.5, "DataLoader.Eval: Gallery and Query list the same images; they are embedded once and each query's match with itself is left out")]
    [TestCase("train.txt", "other.txt", 1.0, null)]
    public void Gallery_and_Query_naming_one_list_are_one_set_without_self_matches(string galleryList, string queryList, double recall1, string? notice)
    {
        using var files = new ConfigTestFiles();
        var notices = new List<string>();
        string[] Loader(string name, string list) =>
            [$"DataLoader.Eval.{name}.dataset.name=ImageNetDataset", $"DataLoader.Eval.{name}.dataset.image_root=.",
             $"DataLoader.Eval.{name}.dataset.cls_label_path={list}", $"DataLoader.Eval.{name}.sampler.batch_size=4"];
        var config = PpclsConfig.Load(files.Write("c.yaml", ConfigTestFiles.Minimal),
            ["Global.eval_mode=retrieval", .. Loader("Gallery", galleryList), .. Loader("Query", queryList)], _ => { });
        var metrics = new MetricSet([], RecallAndMap());

        // Both loaders serve the four points of the self-match test above.
        using var evaluator = RetrievalEvaluator.Build(config, new PointLoaders(), metrics, 1, OnCpu, null, null, notices.Add);
        var result = evaluator.Run(new PointModel(), epoch: 1);

        Assert.That(result["recall1"], Is.EqualTo(recall1).Within(Tol), "as a separate set each point finds itself");
        Assert.That(notices, notice is null ? Is.Empty : Does.Contain(notice));
    }

    sealed class PointLoaders : IDataLoaderBuilder
    {
        public IBatchSource Build(LoaderConfig config, int classNum, long? seed, Action<string> notice) =>
            new InMemoryBatchSource(Points(0, 70, 90, 130), tensor(new long[] { 0, 0, 1, 1 }), classNum: 2, batchCount: 1)
            {
                ImageFiles = Enumerable.Range(0, 4).Select(i => $"{config.Dataset.OptionalString("cls_label_path")}/{i}.jpg").ToList(),
            };
    }

    sealed class NoLoaders : IDataLoaderBuilder
    {
        public IBatchSource Build(LoaderConfig config, int classNum, long? seed, Action<string> notice) =>
            throw new AssertionException("no loader should be built before the metrics are checked");
    }
}
