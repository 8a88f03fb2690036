using Ppcls.Data.Tools;

namespace Ppcls.Data.Tests;

public sealed class DataBenchmarkTests
{
    [Test]
    public void The_data_benchmark_measures_decode_on_each_thread_count_the_chain_and_each_worker_count_on_the_same_images()
    {
        string dir = TestData.ImageSet(6, 2);
        var config = TestData.Loader(TestData.LoaderYaml(dir, TestData.TrainOps, batchSize: 2));
        var results = DataBenchmark.Run(new DataLoaderFactory(DataCatalog.CreateRegistry()), config, 2, 0, 2, 2, _ => { }).ToList();
        Assert.That(results.Select(r => (r.Stage, r.Workers, r.Images)), Is.EqualTo(new[]
        {
            ("decode", 1, 4), ("decode", 2, 4), ("chain", 1, 4), ("loader", 1, 4), ("loader", 2, 4),
        }));
        Assert.That(results.Select(r => r.ImagesPerSecond), Has.All.GreaterThan(0));
        Assert.That(results.Select(r => (r.ImageSize, r.BatchSize)), Has.All.EqualTo((8, 2)), "TrainOps crops to 8 px");
        Assert.That(results[0].ToLine("PPLCNet_x0_25").ToJson(),
            Does.Match("^\\{\"model\":\"PPLCNet_x0_25\",\"phase\":\"decode\",\"size\":\\d+,\"batch\":2,\"threads\":\\d+,\"samples_per_s\":[0-9.]+,\"workers\":1,\"images\":4,"));
    }

    [Test]
    public void Interleaved_rounds_report_each_stage_median_and_the_median_of_the_per_round_ratios()
    {
        string dir = TestData.ImageSet(6, 2);
        var config = TestData.Loader(TestData.LoaderYaml(dir, TestData.TrainOps, batchSize: 2));
        var (stages, ratios) = DataBenchmark.Measure(new DataLoaderFactory(DataCatalog.CreateRegistry()), config, 2, 0, 2, 2, 3, _ => { });

        Assert.That(stages.Select(s => (s.Median.Stage, s.Median.Workers, s.Rounds)), Is.EqualTo(new[]
        {
            ("decode", 1, 3), ("decode", 2, 3), ("chain", 1, 3), ("loader", 1, 3), ("loader", 2, 3),
        }));
        Assert.That(ratios.Select(r => r.Phase), Is.EqualTo(new[] { "chain/decode", "decode2/decode1", "loader2/loader1" }));
        Assert.That(ratios.Select(r => r.Value), Has.All.GreaterThan(0));
        double Median(string stage, int workers) => stages.Single(s => (s.Median.Stage, s.Median.Workers) == (stage, workers)).Median.ImagesPerSecond;
        Assert.That(ratios.Select(r => r.StageImagesPerSecond), Is.EqualTo(new[] { Median("chain", 1), Median("decode", 2), Median("loader", 2) }),
            "each ratio line repeats its numerator stage's median");
        Assert.That(ratios[0].ToLine("M").ToJson(), Does.Match("\\\"phase\\\":\\\"chain/decode\\\",.*\\\"samples_per_s\\\":[0-9.]+,\\\"ratio\\\":[0-9.]+\\}$"));
    }

    [Test]
    public void With_one_round_each_ratio_is_the_quotient_of_the_two_stages_it_names()
    {
        string dir = TestData.ImageSet(6, 2);
        var config = TestData.Loader(TestData.LoaderYaml(dir, TestData.TrainOps, batchSize: 2));
        var (stages, ratios) = DataBenchmark.Measure(new DataLoaderFactory(DataCatalog.CreateRegistry()), config, 2, 0, 2, 2, 1, _ => { });

        double Rate(string stage, int workers) => stages.Single(s => (s.Median.Stage, s.Median.Workers) == (stage, workers)).Median.ImagesPerSecond;
        Assert.That(ratios.Select(r => r.Value), Is.EqualTo(new[]
        {
            Rate("chain", 1) / Rate("decode", 1), Rate("decode", 2) / Rate("decode", 1), Rate("loader", 2) / Rate("loader", 1),
        }).Within(1e-12));
    }
}
