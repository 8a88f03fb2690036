using Ppcls.Core.Config;
using Ppcls.Core.Metric;

namespace Ppcls.Core.Tests.Config;

public sealed class RetrievalConfigTests
{
    ConfigTestFiles _files = null!;

    [SetUp]
    public void SetUp() => _files = new ConfigTestFiles();

    [TearDown]
    public void TearDown() => _files.Dispose();

    PpclsConfig Load(params string[] overrides) => PpclsConfig.Load(_files.Write("config.yaml", ConfigTestFiles.Minimal), overrides, _ => { });

    static string[] Loader(string name, string list) =>
    [
        $"DataLoader.Eval.{name}.dataset.name=ImageNetDataset", $"DataLoader.Eval.{name}.dataset.cls_label_path={list}",
        $"DataLoader.Eval.{name}.sampler.batch_size=4",
    ];

    static readonly string[] GalleryAndQuery = [.. Loader("Gallery", "train.txt"), .. Loader("Query", "val.txt")];

    [Test]
    public void Gallery_and_Query_loaders_are_read_under_eval_mode_retrieval()
    {
        var config = Load([.. GalleryAndQuery, "Global.eval_mode=retrieval", "Global.feature_normalize=False", "Global.retrieval_feature_from=backbone"]);

        Assert.That(config.DataLoader!.Eval, Is.Null);
        Assert.That(config.DataLoader.Gallery!.Dataset.OptionalString("cls_label_path"), Is.EqualTo("train.txt"));
        Assert.That(config.DataLoader.Query!.Sampler.BatchSize, Is.EqualTo(4));
        Assert.That(config.DataLoader.EvalImages, Is.SameAs(config.DataLoader.Query));
        Assert.That(config.Global.Retrieval, Is.EqualTo(new RetrievalOptions("backbone", Normalize: false)));
    }

    [Test]
    public void Gallery_and_Query_without_eval_mode_retrieval_name_the_key_to_set()
    {
        var e = Assert.Throws<ConfigException>(() => Load(GalleryAndQuery))!;

        Assert.That(e.Message, Does.StartWith("Global.eval_mode"));
        Assert.That(e.Message, Does.EndWith("set Global.eval_mode: retrieval"));
    }

    [Test]
    public void Re_ranking_is_refused_with_what_to_do()
    {
        var e = Assert.Throws<ConfigException>(() => Load("Global.eval_mode=retrieval", "Global.re_ranking=True"))!;

        Assert.That(e.Message, Does.StartWith("Global.re_ranking"));
        Assert.That(e.Message, Does.Contain("re-ranking is not built in Ppcls; set it to False"));
    }

    [Test]
    public void An_eval_section_mixing_a_loader_with_Gallery_names_the_stray_key()
    {
        var e = Assert.Throws<ConfigException>(() => Load([.. GalleryAndQuery, "Global.eval_mode=retrieval", "DataLoader.Eval.sampler.batch_size=4"]))!;

        Assert.That(e.Message, Does.StartWith("DataLoader.Eval.sampler"));
        Assert.That(e.Message, Does.Contain("valid keys here: Gallery, Query"));
    }
}
