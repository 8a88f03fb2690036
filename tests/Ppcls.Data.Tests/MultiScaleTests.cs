using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Data.Imaging;
using Ppcls.Data.Loading;
using Ppcls.Data.Ops;

namespace Ppcls.Data.Tests;

/// <summary>MultiScaleSampler + MultiScaleDataset (PP-LCNetV2's recipe): sizes, batch sizes, plans and loaders.</summary>
public sealed class MultiScaleTests
{
    static readonly DataLoaderFactory Factory = new(DataCatalog.CreateRegistry());

    static MultiScaleConfig Sampler(string yaml) =>
        TestData.Loader($"""
            dataset:
              name: MultiScaleDataset
            sampler:
              name: MultiScaleSampler
            {yaml}
            """).Sampler.MultiScale!;

    static string LoaderYaml(string dir, string samplerKeys, string dataset = "MultiScaleDataset", string ops = TestData.TrainOps, int workers = 0) => $"""
        dataset:
          name: {dataset}
          image_root: {dir}
          cls_label_path: {Path.Combine(dir, "list.txt")}
          transform_ops:
        {ops}
        sampler:
        {samplerKeys}
        loader:
          num_workers: {workers}
        """;

    [Test]
    public void PP_LCNetV2s_scales_keep_width_times_height_times_batch_of_the_first_scale()
    {
        var config = Sampler("""
              scales: [160, 192, 224, 288, 320]
              first_bs: 500
              divided_factor: 32
            """);

        // 500 * 160^2 / s^2, truncated: 347.2, 255.1, 154.3, 125.
        Assert.That(MultiScalePlan.Resolutions(config), Is.EqualTo(new[]
        {
            (new Size(160, 160), 500), (new Size(192, 192), 347), (new Size(224, 224), 255), (new Size(288, 288), 154), (new Size(320, 320), 125),
        }));
    }

    [Test]
    public void Training_sizes_are_rounded_down_to_the_divided_factor_but_the_base_area_is_not()
    {
        var config = Sampler("""
              scales: [100, [70, 50]]
              first_bs: 10
              divided_factor: 32
            """);

        // Base 100 x 100 x 10 = 100000: 96 x 96 -> 10.85, 64 x 32 -> 48.8.
        Assert.That(MultiScalePlan.Resolutions(config), Is.EqualTo(new[] { (new Size(96, 96), 10), (new Size(64, 32), 48) }));
    }

    [Test]
    public void Outside_training_every_batch_has_the_first_scale_unrounded_and_first_bs()
    {
        var config = Sampler("""
              scales: [100, 200]
              first_bs: 4
              is_training: False
              shuffle: False
            """);
        var plan = new MultiScalePlan(10, config, shuffle: false, seed: 1);

        Assert.That(MultiScalePlan.Resolutions(config), Is.EqualTo(new[] { (new Size(100, 100), 4) }));
        // The short last batch is filled up from the start of the order, as PaddleClas does.
        Assert.That(plan.Plan(1).Select(b => b.Indices), Is.EqualTo(new[] { new[] { 0, 1, 2, 3 }, [4, 5, 6, 7], [8, 9, 0, 1] }));
    }

    [Test]
    public void A_data_set_smaller_than_the_batch_is_repeated_at_most_once_more()
    {
        var config = Sampler("""
              scales: [64]
              first_bs: 8
              is_training: False
            """);
        var plan = new MultiScalePlan(3, config, shuffle: false, seed: 1);

        // Python's indices[0:3] + indices[:5] on a 3-item list.
        Assert.That(plan.Plan(1).Single().Indices, Is.EqualTo(new[] { 0, 1, 2, 0, 1, 2 }));
    }

    [Test]
    public void The_sequence_of_sizes_is_fixed_while_each_epoch_reshuffles_and_covers_every_sample()
    {
        var config = Sampler("""
              scales: [32, 64]
              first_bs: 4
            """);
        var plan = new MultiScalePlan(25, config, shuffle: true, seed: 3);
        var epoch1 = plan.Plan(1);
        var epoch2 = plan.Plan(2);

        Assert.That(epoch1.Select(b => b.Size), Is.EqualTo(epoch2.Select(b => b.Size)));
        Assert.That(epoch1.Select(b => b.Size).Distinct().Count(), Is.EqualTo(2), "both scales drawn");
        foreach (var (indices, size) in epoch1[..^1])
            Assert.That(indices, Has.Length.EqualTo(size.Width == 32 ? 4 : 1));
        Assert.That(epoch1.SelectMany(b => b.Indices).Distinct().Order(), Is.EqualTo(Enumerable.Range(0, 25)));
        Assert.That(epoch1.Sum(b => b.Indices.Length), Is.LessThan(25 + 4), "only the last batch is filled up");
        Assert.That(epoch1.SelectMany(b => b.Indices), Is.Not.EqualTo(epoch2.SelectMany(b => b.Indices)));
        Assert.That(plan.BatchCount, Is.EqualTo(epoch1.Length));
    }

    [Test]
    public void A_scale_whose_batch_cannot_fit_in_memory_is_refused_naming_first_bs_and_scales()
    {
        string dir = TestData.ImageSet(10, 3);
        const string sampler = """
              name: MultiScaleSampler
              scales: [8, 512]
              first_bs: 4
              divided_factor: 8
            """;
        var factory = new DataLoaderFactory(DataCatalog.CreateRegistry()) { AvailableMemoryBytes = () => 1L << 20 };

        // The 512-px scale gets batch 1 (4 x 8 x 8 / 512^2 rounds to 0, at least 1): 3 MiB of float32.
        var error = Assert.Throws<ConfigException>(() => factory.BuildLoader(TestData.Loader(LoaderYaml(dir, sampler)), 3, 5, _ => { }))!;
        Assert.That(error.Message, Is.EqualTo(
            "DataLoader.Train.sampler.first_bs: a batch of 1 image of 3 x 512 x 512 float32 needs 3.0 MiB, more than the 1.0 MiB of memory available; " +
            "lower DataLoader.Train.sampler.first_bs or DataLoader.Train.sampler.scales"));
    }

    [Test]
    public void The_loader_crops_each_batch_to_its_size_identically_for_any_worker_count()
    {
        string dir = TestData.ImageSet(10, 3);
        const string sampler = """
              name: MultiScaleSampler
              scales: [8, 16]
              first_bs: 4
              divided_factor: 8
            """;
        using var serial = Factory.BuildLoader(TestData.Loader(LoaderYaml(dir, sampler)), 3, 5, _ => { });
        using var parallel = Factory.BuildLoader(TestData.Loader(LoaderYaml(dir, sampler, workers: 2)), 3, 5, _ => { });

        var batches = serial.Epoch(1).Select(b =>
        {
            using (b) return (Shape: b.Images.shape, Values: b.Images.data<float>().ToArray());
        }).ToArray();
        var again = parallel.Epoch(1).Select(b =>
        {
            using (b) return b.Images.data<float>().ToArray();
        }).ToList();

        Assert.That(batches, Has.Length.EqualTo(serial.BatchCount));
        // 8 x 8 batches hold 4 images, 16 x 16 ones 8 * 8 * 4 / 256 = 1.
        foreach (var (shape, _) in batches[..^1])
            Assert.That(shape, Is.EqualTo(new long[] { 4, 3, 8, 8 }).Or.EqualTo(new long[] { 1, 3, 16, 16 }));
        Assert.That(batches.Select(b => b.Shape[3]).Distinct().Count(), Is.EqualTo(2));
        Assert.That(again, Is.EqualTo(batches.Select(b => b.Values).ToList()), "0 and 2 workers give the same batches");
    }

    [Test]
    public void A_resize_short_becomes_a_fixed_resize_to_the_batch_size()
    {
        var ops = new IImageOp[] { new DecodeImage(true, false), new ResizeImage(null, 32, new Interpolation(InterpolationMode.Bilinear)) };
        var pipeline = new SamplePipeline(ops, "transform_ops").WithSize(new Size(20, 12));
        using var image = TestData.Image(40, 30, (x, y, c) => (byte)(x + y + c));

        var (_, c, h, w) = pipeline.Process(TestData.Png(image), "test.png", SampleRandom.For(1, 0, 0, 0));

        Assert.That((c, h, w), Is.EqualTo((3, 12, 20)));
    }

    [Test]
    public void MultiScaleSampler_with_ImageNetDataset_asks_for_MultiScaleDataset()
    {
        string dir = TestData.ImageSet(4, 2);
        var error = Assert.Throws<ConfigException>(() => Factory.Build(TestData.Loader(LoaderYaml(dir, """
              name: MultiScaleSampler
              scales: [8]
              first_bs: 2
              divided_factor: 8
            """, dataset: "ImageNetDataset")), 2, 1, _ => { }))!;

        Assert.That(error.Message, Does.StartWith("DataLoader.Train.sampler.name: MultiScaleSampler gives every batch its own image size")
            .And.Contain("set DataLoader.Train.dataset.name: MultiScaleDataset"));
    }

    [Test]
    public void MultiScaleDataset_with_a_plain_sampler_asks_for_MultiScaleSampler()
    {
        string dir = TestData.ImageSet(4, 2);
        var error = Assert.Throws<ConfigException>(() => Factory.Build(TestData.Loader(LoaderYaml(dir, """
              name: DistributedBatchSampler
              batch_size: 2
            """)), 2, 1, _ => { }))!;

        Assert.That(error.Message, Does.StartWith("DataLoader.Train.dataset.name").And.Contain("set DataLoader.Train.sampler.name: MultiScaleSampler"));
    }

    [Test]
    public void Ops_without_a_crop_or_resize_cannot_take_the_batch_size()
    {
        string dir = TestData.ImageSet(4, 2);
        var error = Assert.Throws<ConfigException>(() => Factory.Build(TestData.Loader(LoaderYaml(dir, """
              name: MultiScaleSampler
              scales: [8]
              first_bs: 2
              divided_factor: 8
            """, ops: """
                - DecodeImage:
                - RandFlipImage:
            """)), 2, 1, _ => { }))!;

        Assert.That(error.Message, Does.StartWith("DataLoader.Train.dataset.transform_ops: MultiScaleDataset sets each batch's image size through RandCropImage, ResizeImage or CropImage"));
    }

    [TestCase("scales: [16, 64]\n  first_bs: 4", "DataLoader.Train.sampler.scales", "scale 16x16 is smaller than divided_factor 32")]
    [TestCase("first_bs: 4", "DataLoader.Train.sampler.scales", "required key is missing")]
    [TestCase("scales: [64, [32, 0]]\n  first_bs: 4", "DataLoader.Train.sampler.scales", "each size a positive integer")]
    [TestCase("scales: [64]", "DataLoader.Train.sampler.first_bs", "required key is missing")]
    [TestCase("scales: [64]\n  first_bs: 4\n  batch_size: 4", "DataLoader.Train.sampler.batch_size", "unknown key")]
    public void Bad_sampler_keys_name_the_key(string keys, string keyPath, string problem)
    {
        var error = Assert.Throws<ConfigException>(() => TestData.Loader($"""
            dataset:
              name: MultiScaleDataset
            sampler:
              name: MultiScaleSampler
              {keys}
            """))!;

        Assert.That(error.Message, Does.StartWith(keyPath).And.Contain(problem));
    }
}
