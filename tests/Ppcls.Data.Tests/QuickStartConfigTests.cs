using Ppcls.Core.Config;
using Ppcls.Data.Tools;

namespace Ppcls.Data.Tests;

public sealed class QuickStartConfigTests
{
    static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ppcls.sln"))) dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("Ppcls.sln not found above the test folder"), relative);
    }

    [Test]
    public void The_quick_start_config_loads_the_generated_demo_set_in_both_loaders()
    {
        string demo = TestData.TempDir();
        DemoDataMaker.Make(demo, 10, 4, 64, 0);
        var notices = new List<string>();
        var config = PpclsConfig.Load(RepoFile("configs/quick_start/PPLCNet_x0_25_demo.yaml"),
        [
            $"DataLoader.Train.dataset.image_root={demo}",
            $"DataLoader.Train.dataset.cls_label_path={Path.Combine(demo, "train_list.txt")}",
            $"DataLoader.Eval.dataset.image_root={demo}",
            $"DataLoader.Eval.dataset.cls_label_path={Path.Combine(demo, "val_list.txt")}",
        ], notices.Add);
        var factory = new DataLoaderFactory(DataCatalog.CreateRegistry());
        using var train = factory.Build(config.DataLoader!.Train!, 10, 42, notices.Add);
        using var eval = factory.Build(config.DataLoader!.Eval!, 10, 42, notices.Add);
        Assert.That((train.SampleCount, train.BatchCount, eval.SampleCount, eval.BatchCount), Is.EqualTo((30, 1, 10, 1)));
        using var batch = eval.Epoch(1).Single();
        Assert.That(batch.Images.shape, Is.EqualTo(new long[] { 10, 3, 64, 64 }));
        Assert.That(batch.Labels.data<long>().ToArray(), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)));
    }
}
