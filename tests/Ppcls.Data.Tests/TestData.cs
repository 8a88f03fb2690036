using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;

namespace Ppcls.Data.Tests;

/// <summary>Small images, temp folders and config snippets for the data tests.</summary>
static class TestData
{
    /// <summary>A 3-channel uint8 image whose pixel (x, y) is (f(x,y,0), f(x,y,1), f(x,y,2)).</summary>
    public static Mat Image(int width, int height, Func<int, int, int, byte> f)
    {
        var m = new Mat(height, width, MatType.CV_8UC3);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                m.Set(y, x, new Vec3b(f(x, y, 0), f(x, y, 1), f(x, y, 2)));
        return m;
    }

    public static byte[] Png(Mat image)
    {
        Cv2.ImEncode(".png", image, out byte[] bytes);
        return bytes;
    }

    public static Vec3b Pixel(Mat m, int x, int y) => m.Get<Vec3b>(y, x);

    /// <summary>This test run's scratch root, removed when the run ends.</summary>
    public static readonly string ScratchRoot = Path.Combine(Path.GetTempPath(), $"ppcls-data-tests-{Environment.ProcessId}");

    public static string TempDir()
    {
        string dir = Path.Combine(ScratchRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static ConfigSection Section(string yaml, string path)
    {
        var map = YamlConfigReader.Read(new StringReader(yaml), "test.yaml");
        return new ConfigSection(map, path);
    }

    /// <summary>`DataLoader.Train` read from YAML text.</summary>
    public static LoaderConfig Loader(string yaml, Action<string>? notice = null) =>
        LoaderConfig.Read(Section(yaml, "DataLoader.Train"), notice ?? (_ => { }));

    /// <summary>
    /// Writes <paramref name="count"/> PNG images (12x10, colour by class and index) into
    /// DIR/images and DIR/list.txt with labels i mod classes; returns DIR.
    /// </summary>
    public static string ImageSet(int count, int classes)
    {
        string dir = TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        var lines = new List<string>();
        for (int i = 0; i < count; i++)
        {
            int label = i % classes;
            using var image = Image(12, 10, (x, y, c) => (byte)((x * 13 + y * 7 + c * 50 + i * 17 + label * 60) % 256));
            File.WriteAllBytes(Path.Combine(dir, "images", $"{i}.png"), Png(image));
            lines.Add($"images/{i}.png {label}");
        }
        File.WriteAllLines(Path.Combine(dir, "list.txt"), lines);
        return dir;
    }

    public static string LoaderYaml(string dir, string ops, int batchSize = 4, bool shuffle = true, bool dropLast = false, int workers = 0, string extra = "") => $"""
        dataset:
          name: ImageNetDataset
          image_root: {dir}
          cls_label_path: {Path.Combine(dir, "list.txt")}
        {extra}
          transform_ops:
        {ops}
        sampler:
          name: DistributedBatchSampler
          batch_size: {batchSize}
          drop_last: {dropLast}
          shuffle: {shuffle}
        loader:
          num_workers: {workers}
          use_shared_memory: True
        """;

    public const string TrainOps = """
            - DecodeImage:
                to_rgb: True
                channel_first: False
            - RandCropImage:
                size: 8
                scale: [0.5, 1.0]
            - RandFlipImage:
                flip_code: 1
            - NormalizeImage:
                scale: 1.0/255.0
                mean: [0.485, 0.456, 0.406]
                std: [0.229, 0.224, 0.225]
                order: ''
            - RandomErasing:
                EPSILON: 0.5
                mode: pixel
        """;
}

/// <summary>Removes the scratch folders of this run once every data test has finished.</summary>
[SetUpFixture]
public sealed class ScratchCleanup
{
    [OneTimeTearDown]
    public void RemoveScratch()
    {
        if (Directory.Exists(TestData.ScratchRoot)) Directory.Delete(TestData.ScratchRoot, recursive: true);
    }
}
