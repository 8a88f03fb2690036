using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Ppcls.Core.Checkpoint;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Checkpoint;

public sealed class SafeTensorsFileTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-safetensors-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    string PathOf(string name) => System.IO.Path.Combine(_dir, name);

    [Test]
    public void Tensors_and_metadata_round_trip_exactly()
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["conv.weight"] = randn(4, 3, 3, 3),
            ["bn._mean"] = arange(4, dtype: float64),
            ["steps"] = tensor(new long[] { 7, -2 }),
            ["half"] = randn(5).to(float16),
        };
        SafeTensorsFile.Write(PathOf("w.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });

        var (read, metadata) = SafeTensorsFile.Read(PathOf("w.safetensors"));

        Assert.That(read.Keys, Is.EquivalentTo(tensors.Keys));
        foreach (var (name, t) in tensors)
        {
            Assert.That(read[name].dtype, Is.EqualTo(t.dtype), name);
            Assert.That(read[name].shape, Is.EqualTo(t.shape), name);
            Assert.That(read[name].eq(t).all().item<bool>(), Is.True, name);
        }
        Assert.That(metadata["format"], Is.EqualTo("pt"));
    }

    [Test]
    public void The_file_layout_follows_the_format()
    {
        using var scope = NewDisposeScope();
        SafeTensorsFile.Write(PathOf("a.safetensors"), new Dictionary<string, Tensor>
        {
            ["b"] = tensor(new float[] { 1.5f, -2f }),
            ["a"] = tensor(new long[] { 3 }),
        });

        byte[] file = File.ReadAllBytes(PathOf("a.safetensors"));
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.That(headerLength % 8, Is.Zero, "header padded to 8 bytes");
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, headerLength).TrimEnd(' '));
        var a = header.RootElement.GetProperty("a");
        var b = header.RootElement.GetProperty("b");
        Assert.That(a.GetProperty("dtype").GetString(), Is.EqualTo("I64"));
        Assert.That(b.GetProperty("dtype").GetString(), Is.EqualTo("F32"));
        Assert.That(a.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()), Is.EqualTo(new long[] { 0, 8 }));
        Assert.That(b.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()), Is.EqualTo(new long[] { 8, 16 }));
        int data = 8 + headerLength;
        Assert.That(BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(data)), Is.EqualTo(3));
        Assert.That(BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(data + 8)), Is.EqualTo(1.5f));
        Assert.That(BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(data + 12)), Is.EqualTo(-2f));
        Assert.That(file.Length, Is.EqualTo(data + 16));
    }

    [TestCase(4, "shorter than its 8-byte header length")]
    [TestCase(20, "header length")]
    public void A_truncated_file_is_rejected_naming_it(int keepBytes, string expected)
    {
        using var scope = NewDisposeScope();
        SafeTensorsFile.Write(PathOf("t.safetensors"), new Dictionary<string, Tensor> { ["x"] = ones(10) });
        byte[] file = File.ReadAllBytes(PathOf("t.safetensors"));
        File.WriteAllBytes(PathOf("t.safetensors"), file[..keepBytes]);

        var e = Assert.Throws<PpclsUserException>(() => SafeTensorsFile.Read(PathOf("t.safetensors")))!;
        Assert.That(e.Message, Does.StartWith(PathOf("t.safetensors") + ": not a valid safetensors file"));
        Assert.That(e.Message, Does.Contain(expected));
    }

    [Test]
    public void A_file_cut_inside_the_data_is_rejected_naming_the_tensor()
    {
        using var scope = NewDisposeScope();
        SafeTensorsFile.Write(PathOf("t.safetensors"), new Dictionary<string, Tensor> { ["x"] = ones(10) });
        byte[] file = File.ReadAllBytes(PathOf("t.safetensors"));
        File.WriteAllBytes(PathOf("t.safetensors"), file[..^4]);

        var e = Assert.Throws<PpclsUserException>(() => SafeTensorsFile.Read(PathOf("t.safetensors")))!;
        Assert.That(e.Message, Does.Contain("tensor x: byte range [0, 40)"));
    }

    [Test]
    public void Writing_leaves_no_temporary_file_behind()
    {
        using var scope = NewDisposeScope();
        SafeTensorsFile.Write(PathOf("w.safetensors"), new Dictionary<string, Tensor> { ["x"] = ones(3) });

        Assert.That(Directory.GetFiles(_dir).Select(System.IO.Path.GetFileName), Is.EqualTo(new[] { "w.safetensors" }));
    }
}
