using Ppcls.Core.Checkpoint;
using Ppcls.Core.Engine;

namespace Ppcls.Core.Tests.Engine;

/// <summary>Resuming from a checkpoint whose files were damaged after it was written.</summary>
public sealed class ResumeTests
{
    string _output = null!;

    [SetUp]
    public void MakeOutput() => _output = Directory.CreateTempSubdirectory("ppcls-resume-").FullName;

    [TearDown]
    public void RemoveOutput() => Directory.Delete(_output, recursive: true);

    [Test]
    public void A_damaged_optimizer_state_is_one_error_naming_the_file()
    {
        new Trainer(TinyTraining.Session(_output, "epochs: 1")).Run();
        string latest = Path.Combine(_output, "Tiny", "latest");
        string optim = CheckpointStore.OptimizerPath(latest);
        File.WriteAllBytes(optim, File.ReadAllBytes(optim)[..7]);

        var e = Assert.Throws<PpclsUserException>(() => new Trainer(TinyTraining.Session(_output, $"epochs: 2, checkpoints: '{latest}'")).Run())!;

        Assert.That(e.Message, Does.StartWith($"{optim}: unreadable optimizer state (").And.EndWith("or start a new run from its weights with Global.pretrained_model"));
    }
}
