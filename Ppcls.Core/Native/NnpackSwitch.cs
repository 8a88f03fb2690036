using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Ppcls.Core.Native;

/// <summary>
/// Turns libtorch's NNPACK convolution path off (torch.backends.nnpack.enabled = False in
/// Python; TorchSharp does not expose it). On CPUs NNPACK does not support, libtorch retries
/// NNPACK's initialisation on every eligible no-grad conv and prints "Could not initialize
/// NNPACK! Reason: Unsupported hardware." each time; oneDNN/native kernels then run anyway,
/// so switching it off changes no result, only the noise.
/// </summary>
public static partial class NnpackSwitch
{
    public static string State { get; private set; } = "untouched";

    public static void Disable()
    {
        _ = get_num_threads(); // loads libtorch (TorchSharp's static initialiser) before the call below
        if (!OperatingSystem.IsLinux())
        {
            State = "untouched (not Linux)";
            return;
        }
        try
        {
            SetUserEnabledNnpack(GlobalContext(), false);
            State = "disabled";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            State = $"untouched ({e.GetType().Name})";
        }
    }

    // at::globalContext() and at::Context::setUserEnabledNNPACK(bool): a member function takes
    // `this` as its first argument in the Itanium C++ ABI used on Linux.
    [LibraryImport("torch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("torch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);
}
