using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Data.Datasets;
using static TorchSharp.torch;

namespace Ppcls.Data.Tests;

public sealed class MultiLabelDatasetTests
{
    static readonly DataLoaderFactory Factory = new(DataCatalog.CreateRegistry());

    /// <summary>Four images with 3 labels each: rows 1,0,1 / 0,1,1 / 1,1,0 / 0,0,1.</summary>
    static readonly float[][] Rows = [[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]];

    static string MultiLabelSet()
    {
        string dir = TestData.ImageSet(Rows.Length, 2);
        File.WriteAllLines(Path.Combine(dir, "ml.txt"), Rows.Select((r, i) => $"images/{i}.png\t{string.Join(',', r)}"));
        return dir;
    }

    static string Yaml(string dir, string extra = "", string batchOps = "") => $"""
        dataset:
          name: MultiLabelDataset
          image_root: {dir}
          cls_label_path: {Path.Combine(dir, "ml.txt")}
        {extra}
          transform_ops:
            - DecodeImage:
                to_rgb: True
            - ResizeImage:
                size: 8
            - NormalizeImage:
                scale: 1.0/255.0
                mean: [0.5, 0.5, 0.5]
                std: [0.5, 0.5, 0.5]
                order: ''
        {batchOps}
        sampler:
          name: DistributedBatchSampler
          batch_size: 4
          drop_last: False
          shuffle: False
        loader:
          num_workers: 0
        """;

    [Test]
    public void The_loader_collates_each_lines_0_1_vector_into_a_float_batch_in_list_order()
    {
        string dir = MultiLabelSet();
        using var loader = Factory.BuildLoader(TestData.Loader(Yaml(dir)), 3, seed: 1, _ => { });
        using var batch = loader.Epoch(1).Single();

        Assert.That(batch.Labels.dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(batch.Labels.shape, Is.EqualTo(new long[] { 4, 3 }));
        Assert.That(batch.Labels.data<float>().ToArray(), Is.EqualTo(Rows.SelectMany(r => r).ToArray()));
        Assert.That(batch.Images.shape, Is.EqualTo(new long[] { 4, 3, 8, 8 }));
        Assert.That(loader.LabelSummary!.MultiLabel, Is.True);
    }

    [Test]
    public void With_label_ratio_each_target_carries_the_lists_positive_ratio_per_label_as_a_second_row()
    {
        string dir = MultiLabelSet();
        using var loader = Factory.BuildLoader(TestData.Loader(Yaml(dir, "  label_ratio: True")), 3, seed: 1, _ => { });
        using var batch = loader.Epoch(1).Single();

        Assert.That(batch.Labels.shape, Is.EqualTo(new long[] { 4, 2, 3 }));
        // Column means over the 4 lines: 2/4, 2/4, 3/4.
        float[] ratio = [0.5f, 0.5f, 0.75f];
        for (int i = 0; i < 4; i++)
        {
            Assert.That(batch.Labels[i, 0].data<float>().ToArray(), Is.EqualTo(Rows[i]));
            Assert.That(batch.Labels[i, 1].data<float>().ToArray(), Is.EqualTo(ratio));
        }
    }

    [Test]
    public void A_malformed_line_is_reported_with_file_and_line_number()
    {
        string dir = TestData.ImageSet(2, 2);
        string list = Path.Combine(dir, "bad.txt");
        File.WriteAllLines(list, ["images/0.png\t1,0,1", "images/1.png 1,0,1", "images/1.png\t1,x,0", "images/1.png\t1,0", "images/9.png\t0,0,1"]);

        var error = Assert.Throws<PpclsUserException>(() => MultiLabelDataset.Load(dir, list, "\t", false, 3, BadImagePolicy.Error))!;

        Assert.That(error.Message, Does.Contain("4 problems"));
        Assert.That(error.Message, Does.Contain($"{list}:2: expected 'path<TAB>0,1,...'"));
        Assert.That(error.Message, Does.Contain($"{list}:3: label 'x' is not an integer"));
        Assert.That(error.Message, Does.Contain($"{list}:4: 2 labels, but Arch.class_num is 3"));
        Assert.That(error.Message, Does.Contain($"{list}:5: image '{Path.Combine(dir, "images/9.png")}' does not exist"));
    }

    [Test]
    public void The_delimiter_key_replaces_the_tab()
    {
        string dir = TestData.ImageSet(2, 2);
        string list = Path.Combine(dir, "space.txt");
        File.WriteAllLines(list, ["images/0.png 1,0", "images/1.png 0,1"]);

        var dataset = MultiLabelDataset.Load(dir, list, " ", false, 2, BadImagePolicy.Error);

        Assert.That(dataset.Labels(1), Is.EqualTo(new float[] { 0, 1 }));
        Assert.That(dataset.TargetShape, Is.EqualTo(new long[] { 2 }));
    }

    [Test]
    public void Batch_ops_on_a_multi_label_set_are_refused_naming_the_key()
    {
        string dir = MultiLabelSet();
        string batchOps = """
              batch_transform_ops:
                - MixupOperator:
                    alpha: 0.2
            """;
        var error = Assert.Throws<ConfigException>(() => Factory.BuildLoader(TestData.Loader(Yaml(dir, batchOps: batchOps)), 3, seed: 1, _ => { }))!;
        Assert.That(error.Message, Does.Contain("DataLoader.Train.dataset.batch_transform_ops").And.Contain("remove batch_transform_ops"));
    }
}
