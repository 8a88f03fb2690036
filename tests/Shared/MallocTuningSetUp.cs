using Ppcls.Core.Native;

// Assembly-wide (no namespace): tune malloc in the test host before any test makes a tensor,
// exactly as the CLI does at start-up.
[SetUpFixture]
public sealed class MallocTuningSetUp
{
    [OneTimeSetUp]
    public void ApplyMallocTuning() => MallocTuning.Apply();
}
