using Ppcls.Core;
using Ppcls.Core.Data;
using Ppcls.Data.Loading;

namespace Ppcls.Data.Tests;

public sealed class DataLoaderTests
{
    static readonly DataLoaderFactory Factory = new(DataCatalog.CreateRegistry());

    static DataLoader Build(string dir, int workers, string? ops = null, int batchSize = 4, bool dropLast = false, string extra = "",
        Action<string>? notice = null, int classNum = 3, long seed = 7) =>
        Factory.BuildLoader(TestData.Loader(TestData.LoaderYaml(dir, ops ?? TestData.TrainOps, batchSize, true, dropLast, workers, extra)),
            classNum, seed, notice ?? (_ => { }));

    static List<(float[] Images, long[] Shape, float[] Labels)> Snapshot(IBatchSource loader, int epoch, int? next = null)
    {
        var result = new List<(float[], long[], float[])>();
        foreach (var batch in loader.Epoch(epoch, next))
            using (batch)
                result.Add((batch.Images.data<float>().ToArray(), batch.Images.shape,
                    batch.SoftLabels ? batch.Labels.data<float>().ToArray() : batch.Labels.data<long>().ToArray().Select(l => (float)l).ToArray()));
        return result;
    }

    [Test]
    public void Batches_are_identical_for_zero_one_and_two_workers_with_the_same_seed()
    {
        string dir = TestData.ImageSet(10, 3);
        using var serial = Build(dir, 0);
        using var one = Build(dir, 1);
        using var two = Build(dir, 2);
        var expected = Snapshot(serial, 1);
        Assert.That(expected.Select(b => b.Shape[0]), Is.EqualTo(new long[] { 4, 4, 2 }));
        Assert.That(expected[0].Shape, Is.EqualTo(new long[] { 4, 3, 8, 8 }));
        foreach (var loader in new[] { one, two })
        {
            var actual = Snapshot(loader, 1);
            Assert.That(actual, Has.Count.EqualTo(expected.Count));
            for (int b = 0; b < expected.Count; b++)
            {
                Assert.That(actual[b].Images, Is.EqualTo(expected[b].Images), $"batch {b} images, {loader.Workers} workers");
                Assert.That(actual[b].Labels, Is.EqualTo(expected[b].Labels), $"batch {b} labels");
            }
        }
    }

    [Test]
    public void Workers_that_go_on_into_the_announced_next_epoch_give_the_same_batches_as_fresh_epochs()
    {
        // 10 images in batches of 4: 3 batches per epoch, so with 2 workers the epochs start on alternating workers.
        string dir = TestData.ImageSet(10, 3);
        using var serial = Build(dir, 0);
        using var two = Build(dir, 2);
        // 5 then 8: an announced epoch that is not the one read next is dropped, not delivered.
        var reading = Task.Run(() => new[] { Snapshot(two, 1, next: 2), Snapshot(two, 2, next: 3), Snapshot(two, 3), Snapshot(two, 5, next: 6), Snapshot(two, 8) });
        Assert.That(reading.Wait(TimeSpan.FromSeconds(60)), Is.True, "the loader hung");
        int[] epochs = [1, 2, 3, 5, 8];
        var actual = reading.Result;
        for (int e = 0; e < epochs.Length; e++)
        {
            var expected = Snapshot(serial, epochs[e]);
            Assert.That(actual[e].Select(b => b.Images), Is.EqualTo(expected.Select(b => b.Images)), $"epoch {epochs[e]} images");
            Assert.That(actual[e].Select(b => b.Labels), Is.EqualTo(expected.Select(b => b.Labels)), $"epoch {epochs[e]} labels");
        }
    }

    [Test]
    public void Each_epoch_shuffles_differently_and_covers_every_sample_once()
    {
        string dir = TestData.ImageSet(10, 3);
        using var loader = Build(dir, 2);
        var plan1 = BatchPlan.Plan(10, TestData.Loader(TestData.LoaderYaml(dir, TestData.TrainOps)).Sampler, 7, 1);
        var plan2 = BatchPlan.Plan(10, TestData.Loader(TestData.LoaderYaml(dir, TestData.TrainOps)).Sampler, 7, 2);
        Assert.That(plan1.SelectMany(b => b).Order(), Is.EqualTo(Enumerable.Range(0, 10)));
        Assert.That(plan1.SelectMany(b => b), Is.Not.EqualTo(plan2.SelectMany(b => b)));
        Assert.That(Snapshot(loader, 1)[0].Images, Is.Not.EqualTo(Snapshot(loader, 2)[0].Images));
    }

    [Test]
    public void Drop_last_drops_the_short_batch()
    {
        string dir = TestData.ImageSet(10, 3);
        using var loader = Build(dir, 2, dropLast: true);
        Assert.That(loader.BatchCount, Is.EqualTo(2));
        Assert.That(Snapshot(loader, 1).Select(b => b.Shape[0]), Is.EqualTo(new long[] { 4, 4 }));
    }

    [Test]
    public void A_corrupt_image_fails_the_epoch_naming_the_file_without_hanging()
    {
        string dir = TestData.ImageSet(10, 3);
        File.WriteAllBytes(Path.Combine(dir, "images", "6.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        using var loader = Build(dir, 2);
        var task = Task.Run(() => Snapshot(loader, 1));
        Assert.That(Task.WaitAny([task], TimeSpan.FromSeconds(20)), Is.Zero, "the loader hung");
        Assert.That(task.Exception!.InnerException, Is.InstanceOf<PpclsUserException>()
            .With.Message.Contains("6.png").And.Message.Contains("on_bad_image: skip"));
    }

    [Test]
    public void A_zero_byte_image_fails_the_epoch_saying_the_file_is_empty()
    {
        string dir = TestData.ImageSet(10, 3);
        string empty = Path.Combine(dir, "images", "4.png");
        File.WriteAllBytes(empty, []);
        using var loader = Build(dir, 0);
        var error = Assert.Throws<PpclsUserException>(() => Snapshot(loader, 1))!;
        Assert.That(error.Message, Is.EqualTo(
            $"cannot decode image {empty}: the file is empty (0 bytes); replace it or remove its line from the list (set on_bad_image: skip in the dataset to skip such files)"));
    }

    [Test]
    public void Skipped_bad_images_are_counted_and_reported_at_epoch_end()
    {
        string dir = TestData.ImageSet(10, 3);
        File.WriteAllBytes(Path.Combine(dir, "images", "3.png"), [1, 2, 3]);
        var notices = new List<string>();
        using var loader = Build(dir, 2, extra: "  on_bad_image: skip", notice: notices.Add);
        var batches = Snapshot(loader, 1);
        Assert.That(batches.Sum(b => b.Shape[0]), Is.EqualTo(9));
        Assert.That(notices, Has.One.Contains("skipped 1 undecodable image").And.Contains("3.png"));
    }

    [Test]
    public void A_batch_with_a_skipped_image_holds_the_same_pixels_with_and_without_workers()
    {
        string dir = TestData.ImageSet(10, 3);
        File.WriteAllBytes(Path.Combine(dir, "images", "3.png"), [1, 2, 3]);
        using var serial = Build(dir, 0, extra: "  on_bad_image: skip");
        using var threaded = Build(dir, 2, extra: "  on_bad_image: skip");
        var expected = Snapshot(serial, 1);
        var actual = Snapshot(threaded, 1);
        Assert.That(expected.Select(b => b.Shape[0]).Sum(), Is.EqualTo(9));
        Assert.That(expected.Select(b => b.Shape[0]), Has.Some.EqualTo(3), "the batch that lost an image is 3 long");
        Assert.That(actual.Select(b => b.Shape), Is.EqualTo(expected.Select(b => b.Shape)));
        for (int b = 0; b < expected.Count; b++)
        {
            Assert.That(actual[b].Images, Is.EqualTo(expected[b].Images), $"batch {b} pixels");
            Assert.That(actual[b].Labels, Is.EqualTo(expected[b].Labels), $"batch {b} labels");
        }
    }

    [Test]
    public void Leaving_an_epoch_early_stops_the_workers_and_the_next_epoch_runs()
    {
        string dir = TestData.ImageSet(10, 3);
        using var loader = Build(dir, 2, batchSize: 1);
        foreach (var batch in loader.Epoch(1))
        {
            batch.Dispose();
            break;
        }
        Assert.That(Snapshot(loader, 2), Has.Count.EqualTo(10));
    }

    [Test]
    public void Mixup_in_batch_transform_ops_gives_soft_labels_of_class_num_width()
    {
        string dir = TestData.ImageSet(8, 3);
        const string ops = """
                - DecodeImage:
                - CropImage:
                    size: 8
                - NormalizeImage:
              batch_transform_ops:
                - MixupOperator:
                    alpha: 0.2
            """;
        using var loader = Build(dir, 2, ops);
        foreach (var batch in loader.Epoch(1))
            using (batch)
            {
                Assert.That(batch.SoftLabels, Is.True);
                Assert.That(batch.Labels.shape, Is.EqualTo(new long[] { 4, 3 }));
                Assert.That(batch.Labels.sum(1).data<float>().ToArray(), Has.All.EqualTo(1f).Within(1e-5f));
            }
    }

    [Test]
    public void Cancelling_an_epoch_stops_it_with_operation_canceled()
    {
        string dir = TestData.ImageSet(10, 3);
        using var loader = Build(dir, 2, batchSize: 1);
        using var cancel = new CancellationTokenSource();
        var task = Task.Run(() =>
        {
            int seen = 0;
            foreach (var batch in loader.Epoch(1, cancel: cancel.Token))
            {
                batch.Dispose();
                if (++seen == 2) cancel.Cancel();
            }
            return seen;
        });
        Assert.That(Task.WaitAny([task], TimeSpan.FromSeconds(20)), Is.Zero, "the loader hung");
        Assert.That(task.Exception?.InnerException, Is.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void An_unknown_dataset_name_suggests_the_registered_one()
    {
        string dir = TestData.ImageSet(2, 2);
        var yaml = TestData.LoaderYaml(dir, TestData.TrainOps).Replace("name: ImageNetDataset", "name: ImageNetDatset");
        Assert.That(() => Factory.Build(TestData.Loader(yaml), 3, 1, _ => { }),
            Throws.TypeOf<Ppcls.Core.Config.ConfigException>().With.Message.Contains("DataLoader.Train.dataset.name").And.Message.Contains("did you mean 'ImageNetDataset'"));
    }
}
