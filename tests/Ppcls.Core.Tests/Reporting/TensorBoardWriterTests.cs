using System.Text;
using Ppcls.Core.Reporting;
using Ppcls.TestSupport;

namespace Ppcls.Core.Tests.Reporting;

public sealed class TensorBoardWriterTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-tb-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void Crc32C_matches_the_published_check_value_and_the_bitwise_reference()
    {
        byte[] check = Encoding.ASCII.GetBytes("123456789");
        byte[] odd = Enumerable.Range(0, 37).Select(i => (byte)(i * 7 + 3)).ToArray();

        Assert.That(TfRecord.Crc32C(check), Is.EqualTo(0xE3069283u));
        Assert.That(TfRecord.MaskedCrc32C(odd), Is.EqualTo(EventFileReader.MaskedCrc(odd)));
        Assert.That(TfRecord.MaskedCrc32C([]), Is.EqualTo(EventFileReader.MaskedCrc([])));
    }

    [Test]
    public void Scalars_read_back_with_their_tags_steps_and_values_from_a_valid_event_file()
    {
        string path;
        double before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using (var writer = TensorBoardWriter.Create(Path.Combine(_dir, "tensorboard")))
        {
            path = writer.FilePath;
            writer.AddScalars([new("train/loss", 2.5), new("train/lr", 0.1)], step: 0);
            writer.AddScalar("train/loss", 1.25, step: 300_000);
            writer.AddScalar("eval/top1", 0.875, step: 3);
        }

        var (version, scalars) = EventFileReader.Read(path);

        Assert.That(Path.GetFileName(path), Does.StartWith("events.out.tfevents."));
        Assert.That(version, Is.EqualTo("brain.Event:2"));
        Assert.That(scalars.Select(s => (s.Tag, s.Value, s.Step)), Is.EqualTo(new[]
        {
            ("train/loss", 2.5f, 0L), ("train/lr", 0.1f, 0L), ("train/loss", 1.25f, 300_000L), ("eval/top1", 0.875f, 3L),
        }));
        Assert.That(scalars.Select(s => s.WallTime), Has.All.InRange(before, before + 600), "wall time in Unix seconds");
    }

    [Test]
    public void Two_writers_in_the_same_second_get_two_files()
    {
        using var first = TensorBoardWriter.Create(_dir);
        using var second = TensorBoardWriter.Create(_dir);

        Assert.That(second.FilePath, Is.Not.EqualTo(first.FilePath));
        Assert.That(Directory.GetFiles(_dir, "events.out.tfevents.*"), Has.Length.EqualTo(2));
    }

    [Test]
    public void A_flipped_byte_fails_the_readers_crc_check()
    {
        string path;
        using (var writer = TensorBoardWriter.Create(_dir))
        {
            path = writer.FilePath;
            writer.AddScalar("train/loss", 1.0, 1);
        }
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        Assert.That(() => EventFileReader.Read(path), Throws.TypeOf<InvalidDataException>().With.Message.Contains("data CRC mismatch"));
    }
}
