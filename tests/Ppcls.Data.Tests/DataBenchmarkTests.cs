using Ppcls.Data.Tools;

namespace Ppcls.Data.Tests;

public sealed class DataBenchmarkTests
{
    [Test]
    public void The_data_benchmark_measures_decode_chain_and_each_worker_count_on_the_same_images()
    {
        string dir = TestData.ImageSet(6, 2);
        var config = TestData.Loader(TestData.LoaderYaml(dir, TestData.TrainOps, batchSize: 2));
        var results = DataBenchmark.Run(new DataLoaderFactory(DataCatalog.CreateRegistry()), config, 2, 0, 2, 2, _ => { }).ToList();
        Assert.That(results.Select(r => (r.Stage, r.Workers, r.Images)), Is.EqualTo(new[]
        {
            ("decode", 1, 4), ("chain", 1, 4), ("loader", 1, 4), ("loader", 2, 4),
        }));
        Assert.That(results.Select(r => r.ImagesPerSecond), Has.All.GreaterThan(0));
        Assert.That(results.Select(r => (r.ImageSize, r.BatchSize)), Has.All.EqualTo((8, 2)), "TrainOps crops to 8 px");
        Assert.That(results[0].ToLine("PPLCNet_x0_25").ToJson(),
            Does.Match("^\\{\"model\":\"PPLCNet_x0_25\",\"phase\":\"decode\",\"size\":\\d+,\"batch\":2,\"threads\":\\d+,\"samples_per_s\":[0-9.]+,\"workers\":1,\"images\":4,"));
    }
}
