namespace Ppcls.Tools.Tests;

/// <summary>
/// Retrieval eval under `mpirun -np 2`: each rank embeds its half of the gallery and query sets,
/// and the metrics are scored on the embeddings of both ranks gathered (back in the lists' order),
/// so they equal a single process's eval of the same weights.
/// </summary>
[NonParallelizable]
public sealed class DistributedRetrievalTests
{
    [SetUp]
    public void NeedsMpirun() => MpiJob.RequireMpirun();

    [Test]
    public void Two_ranks_score_recall_and_mAP_on_the_embeddings_of_both()
    {
        using var demo = new DemoData();
        // PKSampler does not shard across ranks: train with DistributedBatchSampler, evaluate by retrieval.
        string config = Path.Combine(demo.Root, "retrieval_ddp.yaml");
        string text = File.ReadAllText(MetricLearningCliTests.TripletConfig);
        string pk = "      name: PKSampler\n      batch_size: 32\n      sample_per_id: 4";
        Assert.That(text, Does.Contain(pk));
        File.WriteAllText(config, text.Replace(pk, "      name: DistributedBatchSampler\n      batch_size: 32\n      drop_last: True"));
        string output = demo.NewOutput();
        // One thread everywhere: the same float rounding in both runs, so near-equal similarities rank alike.
        string[] args = [.. MetricLearningCliTests.Overrides(demo, output, epochs: 3, config), "-o", "DataLoader.Train.sampler.batch_size=4", "-o", "Global.num_threads=1"];

        var two = MpiJob.Run(2, "ppcls.dll", ["train", .. args]);
        Assert.That(two.ExitCode, Is.EqualTo(0), two.Output + two.Error);
        Assert.That(two.Output, Does.Contain("data parallel: 2 ranks (mpi)"));
        // Both ranks' embeddings: 32 gallery and 8 query images, not a rank's 16 and 4.
        Assert.That(two.Output, Does.Contain("Build gallery done, all feat shape: [32, 64]").And.Contain("Build query done, all feat shape: [8, 64]"));
        var distributed = MetricLearningCliTests.EvalLine.Matches(two.Output).Last();
        Assert.That(distributed.Success, Is.True, two.Output);

        // A child process: Global.num_threads would otherwise change the test host's libtorch threads.
        var one = MpiJob.Run(1, "ppcls.dll", ["eval", .. args, "-o", $"Global.pretrained_model={Path.Combine(output, "RecModel", "latest")}"]);
        Assert.That(one.ExitCode, Is.EqualTo(0), one.Error);
        string evalLog = File.ReadAllText(Path.Combine(output, "RecModel", "eval.log"));
        var single = MetricLearningCliTests.EvalLine.Match(evalLog);
        Assert.That(single.Success, Is.True, evalLog);
        Assert.That(distributed.Groups[2].Value, Is.EqualTo(single.Groups[2].Value));
    }
}
