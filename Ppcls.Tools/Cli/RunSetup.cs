using Ppcls.Core.Config;
using Ppcls.Core.Engine;
using Ppcls.Core.Logging;
using Ppcls.Core.Models;
using Ppcls.Models;
using static TorchSharp.torch;

namespace Ppcls.Tools.Cli;

/// <summary>
/// What every config-driven command does first, as PaddleClas's engine does: open the
/// run's log file, pick the device, and build the model from `Arch` (which validates its options).
/// </summary>
public sealed record RunSetup(PpclsConfig Config, Device Device, nn.Module<Tensor, Tensor> Model)
{
    public static RunSetup Prepare((PpclsConfig Config, IReadOnlyList<string> Notices) loaded, string logName)
    {
        var config = loaded.Config;
        PpclsLog.AddFile(Path.Combine(config.Global.OutputDir, config.Arch.Name, logName));
        foreach (var notice in loaded.Notices) PpclsLog.Info(notice);
        var device = DeviceSelector.Resolve(config.Global.Device, config.Tree["Global"] is ConfigMap g ? g["device"]?.Location : null);
        if (config.Global.NumThreads is { } threads) set_num_threads(threads);
        var model = ModelBuilder.Build(config.Arch, ModelZoo.CreateRegistry(), PpclsLog.Info);
        long parameters = model.parameters().Sum(p => p.numel());
        PpclsLog.Info($"config {config.SourcePath} is valid; model {config.Arch.Name} built with {parameters:N0} parameters on {device.type}");
        return new RunSetup(config, device, model);
    }
}
