using System.IO.Compression;
using Ppcls.Core.Checkpoint;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Checkpoint;

public sealed class TorchStateDictFileTests
{
    static readonly string Fixture = TestFixtures.Path("weights", "torch_state_dict.pth");

    static float[] Floats(Tensor t) => t.to(float32).data<float>().ToArray();

    [Test]
    public void Every_tensor_written_by_torch_save_is_read_with_its_dtype_shape_and_values()
    {
        // Values as tests/fixtures/make_pth_fixture.py describes them (written by torch 1.13's torch.save).
        var read = TorchStateDictFile.Read(Fixture);

        Assert.That(read.Keys, Is.EqualTo(new[]
        {
            "stem.stem1.conv.weight", "stem.stem1.bn.running_mean", "stem.stem1.bn.running_var", "stem.stem1.bn.num_batches_tracked",
            "head.fc.weight", "head.fc.bias", "head.last_conv.0.weight",
            "stages.0.blocks.0.aggregation.0.conv.weight", "stages.0.blocks.0.aggregation.1.conv.bias",
        }));
        Assert.That(read["stem.stem1.conv.weight"].shape, Is.EqualTo(new long[] { 2, 3, 2, 2 }));
        Assert.That(Floats(read["stem.stem1.conv.weight"]), Is.EqualTo(Enumerable.Range(0, 24).Select(i => i * 0.25f - 1)));
        Assert.That(Floats(read["stem.stem1.bn.running_mean"]), Is.EqualTo(new[] { 0.5f, 1.5f }));
        Assert.That(Floats(read["stem.stem1.bn.running_var"]), Is.EqualTo(new[] { 1f, 2f }));
        Assert.That(read["stem.stem1.bn.num_batches_tracked"].shape, Is.Empty);
        Assert.That(read["stem.stem1.bn.num_batches_tracked"].item<long>(), Is.EqualTo(7));
        Assert.That(read["head.fc.weight"].dtype, Is.EqualTo(ScalarType.Float16));
        Assert.That(read["head.fc.weight"].shape, Is.EqualTo(new long[] { 3, 2 }));
        Assert.That(Floats(read["head.fc.weight"]), Is.EqualTo(new[] { 0f, 0.5f, 1, 1.5f, 2, 2.5f }));
        Assert.That(Floats(read["head.fc.bias"]), Is.EqualTo(new[] { 4f, 5, 6 }), "a view at offset 4 of a shared storage");
        Assert.That(Floats(read["head.last_conv.0.weight"]), Is.EqualTo(new[] { 0f, 1, 2, 3 }), "the same storage at offset 0");
        Assert.That(read["stages.0.blocks.0.aggregation.0.conv.weight"].shape, Is.EqualTo(new long[] { 3, 2 }));
        Assert.That(Floats(read["stages.0.blocks.0.aggregation.0.conv.weight"]), Is.EqualTo(new[] { 0f, 3, 1, 4, 2, 5 }), "a transposed view (strides 1, 3)");
        Assert.That(read["stages.0.blocks.0.aggregation.1.conv.bias"].data<long>().ToArray(),
            Is.EqualTo(new[] { -2L, 1000000005, 2000000012, 3000000019 }));
    }

    [Test]
    public void Through_the_timm_map_the_names_become_PaddleClas_names()
    {
        var read = WeightFile.Read(Fixture, WeightLayout.WithoutModel with { TorchKeyMap = (name, _) => name.Replace(".aggregation.0.", ".aggregation_squeeze_conv.").Replace("head.", "") });

        Assert.That(read.Keys, Is.EqualTo(new[]
        {
            "stem.stem1.conv.weight", "stem.stem1.bn._mean", "stem.stem1.bn._variance",
            "fc.weight", "fc.bias", "last_conv.0.weight",
            "stages.0.blocks.0.aggregation_squeeze_conv.conv.weight", "stages.0.blocks.0.aggregation.1.conv.bias",
        }), "running statistics renamed, num_batches_tracked dropped, then the family map");
        Assert.That(Floats(read["stem.stem1.bn._mean"]), Is.EqualTo(new[] { 0.5f, 1.5f }));
    }

    [Test]
    public void A_storage_shorter_than_its_tensor_is_refused()
    {
        string dir = Directory.CreateTempSubdirectory("ppcls-pth-").FullName;
        try
        {
            string path = Path.Combine(dir, "cut.pth");
            using (var source = ZipFile.OpenRead(Fixture))
            using (var target = ZipFile.Open(path, ZipArchiveMode.Create))
                foreach (var entry in source.Entries)
                {
                    using var input = entry.Open();
                    using var output = target.CreateEntry(entry.FullName).Open();
                    if (entry.FullName.EndsWith("data/0", StringComparison.Ordinal)) { var head = new byte[40]; input.ReadExactly(head); output.Write(head); }
                    else input.CopyTo(output);
                }

            var e = Assert.Throws<PpclsUserException>(() => TorchStateDictFile.Read(path))!;

            Assert.That(e.Message, Is.EqualTo(path + ": cannot read as a PyTorch state dict: storage 0: 24 elements of FloatStorage need 96 bytes, the archive holds 40; " +
                "save it with torch.save(model.state_dict(), path) or convert it to .safetensors"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void A_file_that_is_not_a_zip_archive_names_the_old_format()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [0x80, 2, (byte)'}', (byte)'.']);
            var e = Assert.Throws<PpclsUserException>(() => TorchStateDictFile.Read(path))!;
            Assert.That(e.Message, Does.Contain("it is not a zip archive (PyTorch before 1.6 wrote another format)"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
