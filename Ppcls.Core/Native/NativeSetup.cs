namespace Ppcls.Core.Native;

/// <summary>Process start-up for anything that runs Ppcls models (the CLI, test hosts): call first.</summary>
public static class NativeSetup
{
    public static void Initialize()
    {
        MallocTuning.Apply(); // must precede the first tensor
        NnpackSwitch.Disable();
    }
}
