using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Data.Datasets;
using Ppcls.Data.Loading;

namespace Ppcls.Data.Tests;

public sealed class IdentitySamplerTests
{
    static SamplerConfig Sampler(string yaml) =>
        SamplerConfig.Read(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "s.yaml"), "DataLoader.Train.sampler"), _ => { });

    [TestCase("DistributedBatchSampler\nbatch_size: 8", SamplerKind.DistributedBatch)]
    [TestCase("BatchSampler\nbatch_size: 8", SamplerKind.Batch)]
    [TestCase("MultiScaleSampler\nscales: [64]\nfirst_bs: 8", SamplerKind.MultiScale)]
    [TestCase("PKSampler\nbatch_size: 8\nsample_per_id: 4", SamplerKind.PK)]
    [TestCase("DistributedRandomIdentitySampler\nbatch_size: 8\nnum_instances: 4", SamplerKind.RandomIdentity)]
    public void The_sampler_name_is_parsed_once_into_its_kind_and_named_back_in_messages(string yaml, SamplerKind kind)
    {
        var sampler = Sampler($"name: {yaml}\n");

        Assert.That(sampler.Kind, Is.EqualTo(kind));
        Assert.That(sampler.Name, Is.EqualTo(yaml.Split('\n')[0]));
    }

    [Test]
    public void Every_batch_holds_p_distinct_classes_with_k_images_each()
    {
        // 5 classes with 6, 6, 6, 3 and 1 images.
        long[] labels = [.. Enumerable.Repeat(0L, 6), .. Enumerable.Repeat(1L, 6), .. Enumerable.Repeat(2L, 6), .. Enumerable.Repeat(3L, 3), 4];
        var sampler = Sampler("name: PKSampler\nbatch_size: 8\nsample_per_id: 4\nshuffle: True\n");

        var batches = IdentityPlan.Plan(labels, sampler.BatchSize, sampler.InstancesPerClass!.Value, seed: 7, epoch: 1);

        Assert.That(batches, Has.Length.EqualTo(labels.Length / 8));
        foreach (var batch in batches)
        {
            var groups = batch.GroupBy(i => labels[i]).ToList();
            Assert.That(groups, Has.Count.EqualTo(2), string.Join(",", batch));
            Assert.That(groups.All(g => g.Count() == 4), Is.True, string.Join(",", batch));
            // A class with at least K images gives K different ones.
            foreach (var g in groups.Where(g => labels.Count(l => l == g.Key) >= 4))
                Assert.That(g.Distinct().Count(), Is.EqualTo(4));
        }
        Assert.That(IdentityPlan.Plan(labels, 8, 4, 7, 1), Is.EqualTo(batches), "same seed and epoch, same plan");
        Assert.That(IdentityPlan.Plan(labels, 8, 4, 7, 2), Is.Not.EqualTo(batches), "another epoch, another plan");
    }

    [Test]
    public void Num_instances_must_divide_the_batch_size()
    {
        var e = Assert.Throws<ConfigException>(() => Sampler("name: DistributedRandomIdentitySampler\nbatch_size: 8\nnum_instances: 3\n"))!;

        Assert.That(e.Message, Does.Contain("DataLoader.Train.sampler.num_instances").And.Contain("must be a positive divisor of batch_size (8), got 3"));
    }

    [Test]
    public void A_pk_loader_plans_identity_batches_and_refuses_to_shard_across_ranks()
    {
        string dir = TestData.ImageSet(12, 3);
        string yaml = TestData.LoaderYaml(dir, TestData.TrainOps).Replace("name: DistributedBatchSampler", "name: PKSampler\n  sample_per_id: 2");
        var factory = new DataLoaderFactory(DataCatalog.CreateRegistry());

        using var loader = factory.BuildLoader(TestData.Loader(yaml), 3, 7, _ => { });
        Assert.That(loader.BatchCount, Is.EqualTo(3), "12 images in batches of 4");
        Assert.That(loader.Epoch(1).Select(b => { using (b) return b.Labels.data<long>().Distinct().Count(); }), Has.All.EqualTo(2));

        var error = Assert.Throws<PpclsUserException>(() => factory.BuildLoader(TestData.Loader(yaml), 3, 7, _ => { }, new DataShard(0, 2, true)))!;
        Assert.That(error.Message, Is.EqualTo("PKSampler does not shard its batches across 2 ranks yet; run metric learning without mpirun"));
    }

    [Test]
    public void A_list_of_paths_alone_is_unlabeled()
    {
        string dir = TestData.ImageSet(3, 2);
        string list = Path.Combine(dir, "unlabeled.txt");
        File.WriteAllLines(list, ["images/0.png", "images/1.png", "", "images/2.png"]);

        var dataset = ImageNetDataset.Load(dir, list, null, false, 2, BadImagePolicy.Error);

        Assert.That(dataset.Labels, Is.EqualTo(new[] { LabelSummary.NoLabel, LabelSummary.NoLabel, LabelSummary.NoLabel }));
        Assert.That(dataset.LabelSummary.Unlabeled, Is.True);
        Assert.That(dataset.LabelSummary.FewClassesWarning(1000), Is.Null);
    }
}
