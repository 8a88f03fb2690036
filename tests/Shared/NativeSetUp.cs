using Ppcls.Core.Native;

// Assembly-wide (no namespace): the same start-up as the CLI (malloc tuning before any
// tensor, NNPACK off) before any test runs.
[SetUpFixture]
public sealed class NativeSetUp
{
    [OneTimeSetUp]
    public void InitializeNativeRuntime() => NativeSetup.Initialize();
}
