using System.Text;
using System.Text.Json;
using Ppcls.Core.Checkpoint;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Checkpoint;

public sealed class PdparamsFileTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-pdparams-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    static float[] Floats(Tensor t) => t.to(float32).data<float>().ToArray();

    [TestCase("numpy_protocol2.pdparams")]
    [TestCase("numpy_protocol4.pdparams")]
    [TestCase("numpy_protocol5.pdparams")]
    public void Every_value_of_a_numpy_pickled_state_dict_is_read(string file)
    {
        // Values as tests/fixtures/numpy_pdparams.py describes them.
        var read = PdparamsFile.Read(TestFixtures.Path("weights", file));

        Assert.That(read.Keys, Is.EqualTo(new[] { "conv1.conv.weight", "conv1.bn._mean", "conv1.bn._variance", "fc.weight", "fc.bias", "step" }));
        Assert.That(read["conv1.conv.weight"].shape, Is.EqualTo(new long[] { 2, 1, 3, 3 }));
        Assert.That(Floats(read["conv1.conv.weight"]), Is.EqualTo(Enumerable.Range(0, 18).Select(i => i * 0.125f - 1)));
        Assert.That(Floats(read["conv1.bn._mean"]), Is.EqualTo(new[] { -0.5f, 0.5f }));
        Assert.That(read["conv1.bn._variance"].dtype, Is.EqualTo(ScalarType.Float16));
        Assert.That(Floats(read["conv1.bn._variance"]), Is.EqualTo(new[] { 1.5f, 2.5f }));
        Assert.That(read["fc.weight"].shape, Is.EqualTo(new long[] { 3, 2 }));
        Assert.That(Floats(read["fc.weight"]), Is.EqualTo(new[] { 0f, 1, 2, 3, 4, 5 }), "a Fortran-ordered array reads in C order");
        Assert.That(Floats(read["fc.bias"]), Is.EqualTo(new[] { 0f, -1 }));
        Assert.That(read["step"].dtype, Is.EqualTo(ScalarType.Int64));
        Assert.That(read["step"].data<long>().ToArray(), Is.EqualTo(new[] { -1L, 3999999999L }));
    }

    [Test]
    public void Written_files_read_back_identically_in_every_dtype()
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["conv.weight"] = randn(4, 3, 3, 3),
            ["bn._mean"] = arange(4, dtype: float64),
            ["steps"] = tensor(new long[] { 7, -2, 5_000_000_000 }),
            ["half"] = randn(5).to(float16),
            ["scalar"] = tensor(3.5f),
        };
        string path = Path.Combine(_dir, "w.pdparams");
        PdparamsFile.Write(path, tensors);

        var read = PdparamsFile.Read(path);

        Assert.That(read.Keys, Is.EqualTo(tensors.Keys), "names in the written order");
        foreach (var (name, t) in tensors)
        {
            Assert.That(read[name].dtype, Is.EqualTo(t.dtype), name);
            Assert.That(read[name].shape, Is.EqualTo(t.shape), name);
            Assert.That(read[name].eq(t).all().item<bool>(), Is.True, name);
        }
    }

    [Test]
    public void Numpy_loads_the_written_file_with_the_same_values()
    {
        if (TestFixtures.PythonWithNumpy is not { } python) { Assert.Ignore("python3-numpy is not installed (scripts/setup.sh installs it)"); return; }
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["stem.conv.weight"] = arange(24, dtype: float32).reshape(2, 3, 2, 2) * 0.5 - 3,
            ["stem.bn._variance"] = (arange(3, dtype: float32) + 0.25).to(float16),
            ["fc.weight"] = arange(6, dtype: float32).reshape(3, 2),
            ["count"] = tensor(new long[] { -4, 1L << 40 }),
        };
        string path = Path.Combine(_dir, "w.pdparams");
        PdparamsFile.Write(path, tensors);

        string json = TestFixtures.RunPython(python, TestFixtures.Path("numpy_pdparams.py"), "dump", path);

        using var doc = JsonDocument.Parse(json);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(names, Is.EqualTo(tensors.Keys));
        var expectedDtypes = new Dictionary<string, string> { ["stem.conv.weight"] = "<f4", ["stem.bn._variance"] = "<f2", ["fc.weight"] = "<f4", ["count"] = "<i8" };
        foreach (var (name, t) in tensors)
        {
            var entry = doc.RootElement.GetProperty(name);
            Assert.That(entry[0].GetString(), Is.EqualTo(expectedDtypes[name]), name);
            Assert.That(entry[1].EnumerateArray().Select(d => d.GetInt64()), Is.EqualTo(t.shape), name);
            Assert.That(entry[2].EnumerateArray().Select(v => v.GetDouble()), Is.EqualTo(t.to(float64).data<double>().ToArray()), name);
        }
    }

    [Test]
    public void A_pickle_naming_another_global_is_refused_by_name()
    {
        string path = Path.Combine(_dir, "evil.pdparams");
        // protocol 2: os.system('echo hi')
        File.WriteAllBytes(path, [0x80, 2, .. Encoding.Latin1.GetBytes("cos\nsystem\nX\u0007\0\0\0echo hi\u0085R.")]);

        var e = Assert.Throws<PpclsUserException>(() => PdparamsFile.Read(path))!;

        Assert.That(e.Message, Does.StartWith(path + ": cannot read as a PaddleClas .pdparams file"));
        Assert.That(e.Message, Does.Contain("the global os.system is not allowed"));
    }

    [Test]
    public void An_unknown_opcode_is_refused_with_its_position()
    {
        string path = Path.Combine(_dir, "odd.pdparams");
        File.WriteAllBytes(path, [0x80, 2, (byte)'}', (byte)'i', (byte)'.']); // INST is not read

        var e = Assert.Throws<PpclsUserException>(() => PdparamsFile.Read(path))!;

        Assert.That(e.Message, Does.Contain("unsupported pickle opcode 0x69 ('i') at byte 3"));
    }

    [Test]
    public void A_truncated_file_is_refused_before_reading_past_its_end()
    {
        byte[] good = File.ReadAllBytes(TestFixtures.Path("weights", "numpy_protocol4.pdparams"));
        string path = Path.Combine(_dir, "cut.pdparams");
        File.WriteAllBytes(path, good[..(good.Length / 2)]);
        var lengthClaim = Path.Combine(_dir, "huge.pdparams");
        File.WriteAllBytes(lengthClaim, [0x80, 4, (byte)'B', 0xff, 0xff, 0xff, 0x7f, 1, 2, (byte)'.']); // BINBYTES of 2 GiB

        var e = Assert.Throws<PpclsUserException>(() => PdparamsFile.Read(path))!;
        var huge = Assert.Throws<PpclsUserException>(() => PdparamsFile.Read(lengthClaim))!;

        Assert.That(e.Message, Does.Contain("truncated"));
        Assert.That(huge.Message, Does.Contain("truncated: an item of 2147483647 bytes at byte 7 runs past the end (10 bytes)"));
    }
}
