using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>Turns `Global.device` into a torch device, failing clearly where CUDA is absent.</summary>
public static class DeviceSelector
{
    public static Device Resolve(DeviceKind device, SourceLocation? where = null)
    {
        if (device == DeviceKind.Cpu) return CPU;
        if (cuda.is_available()) return CUDA;
        throw ConfigException.At("Global.device", where,
            "'gpu' was requested but CUDA is not available to this build (it uses TorchSharp-cpu, or no GPU is visible); " +
            "run on the CPU with -o Global.device=cpu, or on a CUDA machine build with -p:PpclsDevice=cuda (see README)");
    }
}
